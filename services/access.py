"""The single authorization point for reading a child's data.

Every read of a student's diary goes through `require_linked_student`: the asking account
must have granted consent and hold an approved link to a live student. A forged, stale or
foreign student id gets the same NotLinked as "no such student".
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import ConsentRequired, NotLinked
from storage.models import Account, Link, Student

APPROVED = "approved"


async def require_consent(session: AsyncSession, account_id: int) -> Account:
    """The account, if it has granted consent; ConsentRequired otherwise (NotLinked if unknown)."""
    account = await session.get(Account, account_id)
    if account is None:
        raise NotLinked(f"account {account_id}")
    if account.consent_state != "granted":
        raise ConsentRequired(f"account {account_id}")
    return account


async def require_linked_student(session: AsyncSession, account_id: int, student_id: int) -> Student:
    """The student, if `account_id` may see them; ConsentRequired or NotLinked otherwise."""
    await require_consent(session, account_id)
    try:
        sid = int(student_id)
    except (TypeError, ValueError):
        raise NotLinked(f"account {account_id}") from None
    student = await session.scalar(
        select(Student)
        .join(Link, Link.student_id == Student.id)
        .where(
            Link.account_id == account_id,
            Link.student_id == sid,
            Link.status == APPROVED,
            Student.deleted_at.is_(None),
        )
    )
    if student is None:
        raise NotLinked(f"account {account_id} student {sid}")
    return student
