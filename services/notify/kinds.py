"""Kinds of outbox messages and who may receive them.

Payloads are plain JSON; a channel (Telegram in bot/, e-mail later) renders them at send time.

- ``mark_new``      {"student_id", "student_name", "subject", "value", "kind", "weight", "date", "comment"}
- ``mark_changed``  the same plus "old_value"
- ``mark_deleted``  {"student_id", "student_name", "subject", "value", "date"}
- ``link_request``  to a school admin: {"link_id", "student_name", "class_name", "school_name",
                    "parent_name", "parent_username", "method"}
- ``link_decision`` to the parent: {"link_id", "student_id", "student_name", "approved"}

News beyond marks (issue 4; written by services/sync/school_news.py):

- ``lesson_changed``     a lesson today or tomorrow (school time) newly cancelled, substituted or
                         moved: {"student_id", "student_name", "subject", "date", "number",
                         "starts_at", "ends_at", "room", "group", "changes" (a list of
                         "cancelled" | "substitute" | "moved"), "teacher" (planned teacher's name),
                         "substitute" (name or null), "moved_from" ({"date", "number"} or null)}
- ``homework_new``       {"student_id", "student_name", "subject", "assigned_on", "due_on", "text",
                         "attachments" (list of {"name", "url"})}
- ``recommendation_new`` {"student_id", "student_name", "subject" (or null), "teacher", "date", "text"}
- ``assessment_new``     a control work in the calendar: {"student_id", "student_name", "subject",
                         "date", "lesson_number" (or null), "title", "kind" (control | test | vpr | other)}

Never stored: ``digest`` is what the dispatcher hands a channel when several news rows of one
parent go out as one message (services/notify/calm.py): {"items": [{"kind", "payload"}, ...]},
oldest first, each item one of the kinds above.

One-day rule (issue 5; written by services/delivery.py):

- ``delivery_alarm``  to a school's admins, once per result: final grades or exam results still
                      not delivered to a parent after DELIVERY_ALARM_HOURS: {"school_id",
                      "school_name", "count", "oldest_hours" (int), "threshold_hours" (number),
                      "items": [{"class_name", "subject", "pupil", "kind" (period | year | exam |
                      certificate), "period" (name or null), "title" (exam name or null)}, ...]
                      (the oldest 10)}

Term results (issue 5, items 1-3; written by services/sync/fanout_results.py and
services/forecast_push.py):

- ``final_grade``          a final grade, exam or certificate result new, changed, deferred, or
                           set after a deferral: {"student_id", "student_name", "subject",
                           "period_name" (or null), "kind" (period | year | exam | certificate),
                           "title" (exam name or null), "value" (or null while deferred),
                           "status" (final | deferred), "deferred_until" (YYYY-MM-DD or null),
                           "set_at" (RFC 3339 or null), "change" (new | changed | deferred | set),
                           "old_value" (what the parent was told before, or null)}. The outbox
                           row's ``occurred_at`` is when the journal saved the change (kept from
                           the first change while a message waits): the one-day rule's start.
- ``final_grade_deleted``  a result the parent was told of was withdrawn in the journal: the same
                           fields as told last (not a result: not in RESULT_KINDS).
- ``forecast``             the scheduled (or admin-triggered) forecast for a term:
                           {"student_id", "student_name", "period_name", "period_ends_on",
                           "reason" (weekly | admin), "subjects": [{"subject", "status"
                           (graded | pass_fail | exempt | no_marks), "mark", "average", "count",
                           "min_marks", "risks" (list of too_few_marks | failing | near_fail),
                           "up" ([count, result] or null), "down" (the same)}], "more" (subjects
                           left out to keep the message short)}
- ``forecast_risk``        two weeks before the term ends, the subjects at risk only: the same
                           as ``forecast`` plus "days_left"

Consent lifecycle and erasure (issue 6, items 1-2; written by services/consent.py and
services/erasure.py). Sent whatever the consent state (PRIVACY_KINDS): they concern the
person's own data and the law wants them told.

- ``consent_reask``      the consent text changed; delivery is paused until the parent answers:
                         {"version"}
- ``erasure_scheduled``  consent withdrawn or refused outside the bot (a paper form entered by
                         an admin): {"reference", "due_date" (YYYY-MM-DD, local), "rule"
                         (withdrawal | refusal)}
- ``erasure_reminder``   a few days before the erasure, while re-consent still cancels it:
                         {"reference", "due_date" (YYYY-MM-DD, local)}
"""
from __future__ import annotations

MARK_NEW = "mark_new"
MARK_CHANGED = "mark_changed"
MARK_DELETED = "mark_deleted"
LINK_REQUEST = "link_request"
LINK_DECISION = "link_decision"
# ---- news beyond marks (issue 4)
LESSON_CHANGED = "lesson_changed"
HOMEWORK_NEW = "homework_new"
RECOMMENDATION_NEW = "recommendation_new"
ASSESSMENT_NEW = "assessment_new"
DIGEST = "digest"
# ---- one-day rule (issue 5)
DELIVERY_ALARM = "delivery_alarm"
# ---- term results: forecasts and final grades (issue 5, items 1-3)
FINAL_GRADE = "final_grade"
FINAL_GRADE_DELETED = "final_grade_deleted"
FORECAST = "forecast"
FORECAST_RISK = "forecast_risk"
#: Final grade and exam results: the one-day rule measures their delivery (occurred_at → sent_at).
RESULT_KINDS = frozenset({FINAL_GRADE})
_TERM_RESULT_KINDS = frozenset({FINAL_GRADE, FINAL_GRADE_DELETED, FORECAST, FORECAST_RISK})

#: Sent to parents: require a granted consent at the moment of sending.
PARENT_KINDS = frozenset({MARK_NEW, MARK_CHANGED, MARK_DELETED, LINK_DECISION,
                          LESSON_CHANGED, HOMEWORK_NEW, RECOMMENDATION_NEW, ASSESSMENT_NEW})
#: About one child: also require an approved link to payload["student_id"] at the moment of sending.
LINKED_KINDS = frozenset({MARK_NEW, MARK_CHANGED, MARK_DELETED,
                          LESSON_CHANGED, HOMEWORK_NEW, RECOMMENDATION_NEW, ASSESSMENT_NEW})
PARENT_KINDS |= _TERM_RESULT_KINDS
LINKED_KINDS |= _TERM_RESULT_KINDS
#: Sent to admins: no consent needed (a school employee's work message).
ADMIN_KINDS = frozenset({LINK_REQUEST, DELIVERY_ALARM})
# ---- consent lifecycle and erasure (issue 6, items 1-2)
CONSENT_REASK = "consent_reask"
ERASURE_SCHEDULED = "erasure_scheduled"
ERASURE_REMINDER = "erasure_reminder"
#: About the recipient's own data: sent whatever the consent state (never news, never held).
PRIVACY_KINDS = frozenset({CONSENT_REASK, ERASURE_SCHEDULED, ERASURE_REMINDER})

#: Kinds that wait NOTIFY_GRACE_SECONDS for the teacher's correction before they may go out.
GRACE_KINDS = frozenset({MARK_NEW, MARK_CHANGED, MARK_DELETED})

#: The notification types a parent turns on and off in /settings, in the order shown there.
PREF_TYPE_ORDER = ("marks", "schedule", "homework", "recommendations", "assessments")
#: kind → its notification type. A kind not listed here cannot be turned off (but still obeys
#: quiet hours, the digest time and coalescing when it is news: see services/notify/calm.py).
PREF_TYPES: dict[str, str] = {
    MARK_NEW: "marks",
    MARK_CHANGED: "marks",
    MARK_DELETED: "marks",
    LESSON_CHANGED: "schedule",
    HOMEWORK_NEW: "homework",
    RECOMMENDATION_NEW: "recommendations",
    ASSESSMENT_NEW: "assessments",
}
