"""Settings of the service, read from the environment and `.env`.

The variable names are the operations contract (see README and .env.example): keep their meaning.
"""
from __future__ import annotations

import re
from functools import cached_property

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated, Literal

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./ediary.sqlite3"
#: "HH:MM-HH:MM" (calm delivery, issue 4)
_QUIET_HOURS = re.compile(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = DEFAULT_DATABASE_URL
    auto_migrate: bool = True

    journal_url: str | None = None
    journal_token: SecretStr | None = None
    journal_poll_seconds: float = Field(default=60.0, gt=0)
    journal_page_limit: int = Field(default=500, ge=1, le=1000)
    journal_source: str | None = None

    demo_mark_every_seconds: float = Field(default=180.0, ge=0)

    admin_telegram_ids: Annotated[frozenset[int], NoDecode] = frozenset()

    send_rate_per_second: float = Field(default=25.0, gt=0)
    send_rate_per_chat_seconds: float = Field(default=1.0, ge=0)
    dispatch_poll_seconds: float = Field(default=1.0, gt=0)
    send_max_attempts: int = Field(default=8, ge=1)
    dispatch_lease_seconds: float = Field(default=60.0, gt=0)

    http_enabled: bool = True
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)

    default_timezone: str = "Asia/Yekaterinburg"
    log_level: str = "INFO"

    # forecasts (issue 5, docs/forecast.md): the weekly forecast push (ISO weekday 1 = Monday ..
    # 7, and HH:MM in the school's time zone), the extra push for subjects at risk this many days
    # before a term ends, and how often the job looks for pushes that are due
    forecast_push_weekday: int = Field(default=5, ge=1, le=7)
    forecast_push_time: str = Field(default="18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    forecast_risk_days: int = Field(default=14, ge=0, le=60)
    forecast_check_minutes: float = Field(default=15.0, gt=0)

    # calm delivery (issue 4, docs/notifications.md): a mark waits this long for a correction;
    # news of one parent within the window become one message; quiet hours for parents who did
    # not choose their own ("" or "off": none), in the school's time zone
    notify_grace_seconds: float = Field(default=600.0, ge=0)
    notify_coalesce_seconds: float = Field(default=120.0, ge=0)
    notify_quiet_hours: str = "21:00-07:00"

    # contacts / e-mail (issue 6): the e-mail channel runs when SMTP_HOST and SMTP_FROM are set
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)

    # sandbox (issue 3): `python -m bot` without BOT_TOKEN serves a web chat instead of stopping
    sandbox: Literal["auto", "off"] = "auto"
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8081, ge=0, le=65535)
    sandbox_rate_limits: bool = False

    # term results (issue 5): the journal's push endpoint (off without a secret) and the
    # one-day rule: results undelivered this long are a warning (shown) / an alarm (pushed once)
    journal_push_secret: SecretStr | None = None
    delivery_warning_minutes: float = Field(default=60.0, gt=0)
    delivery_alarm_hours: float = Field(default=20.0, gt=0)
    delivery_check_seconds: float = Field(default=60.0, gt=0)

    @field_validator("journal_push_secret", mode="before")
    @classmethod
    def _blank_push_secret_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # consent lifecycle and erasure (issue 6, docs/privacy.md): a person's data is destroyed
    # this many days after they refused or withdrew consent, and they are reminded this many
    # days before; pseudonymised consent proofs are kept this long after the erasure; the key
    # that pseudonymises them (generated and kept in the database when unset)
    erasure_days: float = Field(default=30.0, ge=0, le=30)
    erasure_reminder_days: float = Field(default=3.0, ge=0)
    consent_proof_days: float = Field(default=1095.0, ge=0)
    privacy_proof_key: SecretStr | None = None

    @field_validator("privacy_proof_key", mode="before")
    @classmethod
    def _blank_proof_key_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("sandbox", mode="before")
    @classmethod
    def _sandbox_word(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("smtp_host", "smtp_user", "smtp_from", "smtp_password", mode="before")
    @classmethod
    def _blank_smtp_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("notify_quiet_hours", mode="after")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        text = value.strip().lower()
        if text in ("", "off", "none"):
            return ""
        if not _QUIET_HOURS.fullmatch(text):
            raise ValueError("NOTIFY_QUIET_HOURS must look like 21:00-07:00 (or be empty / off)")
        return text

    @field_validator("journal_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @cached_property
    def source(self) -> str:
        """Name under which mirror rows of the configured journal are stored."""
        if self.journal_source:
            return self.journal_source
        return "demo" if self.journal_url is None else "journal"

    @property
    def uses_demo_journal(self) -> bool:
        return self.journal_url is None

    @property
    def smtp_configured(self) -> bool:
        """E-mail delivery is on (contacts feature): an SMTP host and a From address are set."""
        return bool(self.smtp_host and self.smtp_from)
