"""Tables of the term-results feature: each school's forecast rule and each parent's choice of
how often forecasts are pushed (docs/forecast.md)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class ForecastRuleRow(Base):
    """A school's forecast rule as JSON (services.forecast.ForecastRule.to_dict); a school
    without a row uses the default rule."""

    __tablename__ = "forecast_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), unique=True)
    settings: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)  # the admin's Telegram id


class ForecastPref(Base):
    """How often a parent gets the forecast push: off | weekly | biweekly (no row: weekly)."""

    __tablename__ = "forecast_prefs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    frequency: Mapped[str] = mapped_column(String(16), default="weekly")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
