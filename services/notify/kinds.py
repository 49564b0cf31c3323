"""Kinds of outbox messages and who may receive them.

Payloads are plain JSON; a channel (Telegram in bot/, e-mail later) renders them at send time.

- ``mark_new``      {"student_id", "student_name", "subject", "value", "kind", "weight", "date", "comment"}
- ``mark_changed``  the same plus "old_value"
- ``mark_deleted``  {"student_id", "student_name", "subject", "value", "date"}
- ``link_request``  to a school admin: {"link_id", "student_name", "class_name", "school_name",
                    "parent_name", "parent_username", "method"}
- ``link_decision`` to the parent: {"link_id", "student_id", "student_name", "approved"}
"""
from __future__ import annotations

MARK_NEW = "mark_new"
MARK_CHANGED = "mark_changed"
MARK_DELETED = "mark_deleted"
LINK_REQUEST = "link_request"
LINK_DECISION = "link_decision"

#: Sent to parents: require a granted consent at the moment of sending.
PARENT_KINDS = frozenset({MARK_NEW, MARK_CHANGED, MARK_DELETED, LINK_DECISION})
#: About one child: also require an approved link to payload["student_id"] at the moment of sending.
LINKED_KINDS = frozenset({MARK_NEW, MARK_CHANGED, MARK_DELETED})
#: Sent to admins: no consent needed (a school employee's work message).
ADMIN_KINDS = frozenset({LINK_REQUEST})
