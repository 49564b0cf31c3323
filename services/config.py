"""Settings of the service, read from the environment and `.env`.

The variable names are the operations contract (see README and .env.example): keep their meaning.
"""
from __future__ import annotations

from functools import cached_property

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./ediary.sqlite3"


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

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

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
