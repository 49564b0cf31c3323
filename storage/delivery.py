"""Tables of the one-day rule (issue 5): every final grade or exam result owed to a parent,
and when it reached them.

`result_deliveries` holds one row per (result change, recipient): rows harvested from the
outbox (one per outbox message caused by a final-grade event) and rows for paper extracts.
It is the data behind the admin's delay report, the `/metrics` histogram and the alarms;
`delivery_watermarks` remembers how far the outbox has been scanned. Rows keep ids only.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow

OPEN, DELIVERED, DROPPED = "open", "delivered", "dropped"


class ResultDelivery(Base):
    """One result (a final-grade change) owed to one recipient.

    ``state``: ``open`` (not yet delivered) → ``delivered`` (``delivered_at`` and
    ``delay_seconds`` set) or ``dropped`` (the message was cancelled: consent withdrawn, link
    revoked, grade retracted). ``key`` makes harvesting and paper records idempotent:
    ``outbox:<id>`` or ``paper:<source>:<final grade>:<seq>:<recipient>``."""

    __tablename__ = "result_deliveries"
    __table_args__ = (
        Index("ix_result_deliveries_state_occurred", "state", "occurred_at"),
        Index("ix_result_deliveries_school_delivered", "school_id", "delivered_at"),
        Index("ix_result_deliveries_result", "source", "final_grade_ref"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    final_grade_ref: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    guardian_ref: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))  # telegram | email | paper ...
    occurred_at: Mapped[datetime]  # when the journal saved the result
    delivered_at: Mapped[datetime | None]
    delay_seconds: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default=OPEN)
    alarmed_at: Mapped[datetime | None]  # the admins were alarmed about it (once)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryWatermark(Base):
    """How far a scan has read a table (``name`` "outbox": the highest outbox id seen)."""

    __tablename__ = "delivery_watermarks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
