"""A parent's notification preferences (issue 4: parent's settings, calm delivery).

No row means the defaults: every type on, the service's default quiet hours
(NOTIFY_QUIET_HOURS), instant delivery. Clock times are minutes after midnight in the time
zone of the school of the parent's child, never UTC: "21:00" stays 21:00 all year.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class NotifyPrefs(Base):
    __tablename__ = "notify_prefs"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    #: Preference types turned off (services/notify/kinds.py PREF_TYPES), e.g. ["homework"].
    muted: Mapped[list[Any]] = mapped_column(default=list)
    #: Quiet hours, minutes after midnight; both None: the service default; equal: none at all.
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    #: Daily digest instead of instant messages, minutes after midnight; None: instant.
    digest_at: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
