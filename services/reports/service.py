"""Reports for school admins as files (PDF or XLSX): the class summary sheet of final grades,
the study-plan fulfilment and the results statistics of a class.

Scope: an admin reports on classes of their own schools (region admins: any); a class of
another school is "not found", exactly as an unknown one. Each report is an export of
personal data and is audited (ids only). The data are read in one short transaction; the
file is rendered outside it, in a worker thread (reportlab and openpyxl are CPU-bound).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.admins import admin_school_ids, audit
from services.config import Settings
from services.errors import NotAdmin, NotFound, ServiceError
from services.reports import data, plan, results, summary
from services.reports.data import ClassInfo, PeriodInfo

log = logging.getLogger(__name__)

ReportKind = Literal["summary", "plan", "stats"]
KINDS: tuple[str, ...] = ("summary", "plan", "stats")
FORMATS: tuple[str, ...] = ("pdf", "xlsx")
MIME = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class UnknownPeriod(ServiceError):
    """The period id is not one of the class's school periods (or the school has none)."""


@dataclass(frozen=True)
class ReportFile:
    kind: str  # summary | plan | stats
    fmt: str  # pdf | xlsx
    filename: str  # ASCII, e.g. "stats-class12-period7.xlsx"
    content: bytes
    mime_type: str
    class_id: int
    class_name: str
    school_name: str
    period_name: str | None  # plan and stats
    year_label: str | None  # summary: "2026/2027"


@dataclass(frozen=True)
class ClassPeriods:
    class_id: int
    class_name: str
    periods: list[PeriodInfo]
    current_id: int | None


class Reports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    async def _class_in_scope(self, s: AsyncSession, actor_tg: int, class_id: int) -> ClassInfo:
        scope = await admin_school_ids(s, self._settings, actor_tg)
        if scope is not None and not scope:
            raise NotAdmin(f"telegram id {actor_tg} is not an admin")
        cls = await data.load_class(s, class_id)
        if scope is not None and cls.school_id not in scope:
            raise NotFound(f"class {class_id}")
        return cls

    async def periods(self, actor_tg: int, class_id: int, *, now: datetime | None = None) -> ClassPeriods:
        """The periods of the class's school (to choose one for plan / stats)."""
        async with self._sessions.begin() as s:
            cls = await self._class_in_scope(s, actor_tg, class_id)
            periods = await data.school_periods(s, cls)
        today = data.school_today(cls, now, self._settings.default_timezone)
        current = data.current_period(periods, cls.grade, today)
        return ClassPeriods(cls.id, cls.name, periods, current.id if current else None)

    async def build(self, actor_tg: int, kind: str, class_id: int, *, fmt: str = "pdf",
                    period_id: int | None = None, now: datetime | None = None) -> ReportFile:
        """One report file. NotAdmin (not an admin), NotFound (class unknown or not the
        admin's), UnknownPeriod (plan / stats with a period not of the school)."""
        if kind not in KINDS or fmt not in FORMATS:
            raise ValueError(f"unknown report {kind!r} or format {fmt!r}")
        async with self._sessions.begin() as s:
            cls = await self._class_in_scope(s, actor_tg, class_id)
            periods = await data.school_periods(s, cls)
            today = data.school_today(cls, now, self._settings.default_timezone)
            pupils = await data.pupils(s, cls)
            if kind == "summary":
                grades = await data.final_grades(s, cls.source, [p.external_id for p in pupils])
                names = await data.subject_names(s, cls.source, {g.subject_ref for g in grades})
                terms, year = data.year_terms(periods, cls.grade, today)
                model: object = summary.build_summary(cls, pupils, grades, names, terms, year,
                                                      data.school_year(periods, today), periods)
                period = None
            else:
                period = self._period(periods, period_id, cls, today)
                if kind == "plan":
                    plan_rows = await data.curriculum(s, cls)
                    lessons = await data.lessons(s, cls, period.starts_on, period.ends_on)
                    refs = {r[0] for r in plan_rows} | {l.subject_ref for l in lessons}
                    names = await data.subject_names(s, cls.source, refs)
                    model = plan.build_plan(cls, period, periods, plan_rows, lessons, names)
                else:
                    grades = await data.final_grades(s, cls.source, [p.external_id for p in pupils])
                    names = await data.subject_names(s, cls.source, {g.subject_ref for g in grades})
                    model = results.build_stats(cls, period, pupils, grades, names)
        module = {"summary": summary, "plan": plan, "stats": results}[kind]
        render = module.to_pdf if fmt == "pdf" else module.to_xlsx
        content = await asyncio.to_thread(render, model)
        year_label = model.year_label if isinstance(model, summary.SummarySheet) else None
        suffix = f"period{period.id}" if period else (year_label or "").replace("/", "-")
        async with self._sessions.begin() as s:
            audit(s, actor=actor_tg, action=f"report.{kind}", target_type="class", target_id=cls.id,
                  details={"format": fmt, "period_id": period.id if period else None,
                           "school_id": cls.school_id, "pupils": len(pupils)})
        log.info("report %s class=%s period=%s format=%s by=%s", kind, cls.id, period.id if period else None,
                 fmt, actor_tg)
        return ReportFile(kind=kind, fmt=fmt, filename=f"{kind}-class{cls.id}-{suffix}.{fmt}", content=content,
                          mime_type=MIME[fmt], class_id=cls.id, class_name=cls.name, school_name=cls.school_name,
                          period_name=period.name if period else None, year_label=year_label)

    @staticmethod
    def _period(periods: list[PeriodInfo], period_id: int | None, cls: ClassInfo, today) -> PeriodInfo:
        if period_id is None:
            current = data.current_period(periods, cls.grade, today)
            if current is None:
                raise UnknownPeriod(f"class {cls.id}: the school has no periods")
            return current
        found = next((p for p in periods if p.id == period_id), None)
        if found is None:
            raise UnknownPeriod(f"period {period_id} of class {cls.id}")
        return found
