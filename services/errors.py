"""Domain exceptions raised by services; the bot maps them to user-facing answers.

Messages carry no personal data (ids at most), so they may be logged.
"""
from __future__ import annotations


class ServiceError(Exception):
    """Base of every domain error raised by services/."""


class NotLinked(ServiceError):
    """The asking account has no approved link to that student (or the student does not exist).

    This is the only answer to a forged or stale student id: it never tells "no such student"
    apart from "not yours"."""


class ConsentRequired(ServiceError):
    """The account has not granted (or has refused/withdrawn) consent to data processing."""


class NotAdmin(ServiceError):
    """The actor is not an admin, or not an admin of the school concerned."""


class NotFound(ServiceError):
    """A referenced row (account, link, school, class) does not exist or is deleted."""


class AlreadyDecided(ServiceError):
    """The link (or consent) is no longer in the state the decision applies to."""


class InvalidCode(ServiceError):
    """An invite code is unknown, already used, invalidated or expired."""
