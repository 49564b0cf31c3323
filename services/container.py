"""Wiring of the services the bot (and other front ends) use."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts import Accounts
from services.admins import Admins
from services.audit import Audit
from services.config import Settings
from services.consent import Consent
from services.consent_export import ConsentExport
from services.contacts import Contacts
from services.delivery import DeliveryMonitor
from services.diary import Diary
from services.erasure import Erasure
from services.forecast_push import ForecastPush
from services.linking import Linking
from services.results import Results
from services.notify.email_channel import Mailer
from services.notify.prefs import NotifyPrefsService
from services.paper import PaperExtracts
from services.reports.service import Reports
from services.sync.push import JournalPush


@dataclass
class Services:
    settings: Settings
    accounts: Accounts
    consent: Consent
    admins: Admins
    linking: Linking
    diary: Diary
    notify_prefs: NotifyPrefsService  # parent's notification settings (issue 4)
    results: Results  # term results: forecasts, final grades, the school's rule (issue 5)
    forecast_push: ForecastPush  # term results: scheduled and admin forecast rounds (issue 5)
    contacts: Contacts  # contacts, e-mail, paper (issue 6)
    paper: PaperExtracts  # contacts, e-mail, paper (issue 6)
    push: JournalPush  # journal push endpoint (issue 5)
    delivery: DeliveryMonitor  # one-day rule (issue 5)
    reports: Reports  # reports for school admins (issue 5)
    erasure: Erasure  # consent lifecycle: erasure after withdrawal, /forget (issue 6)
    audit: Audit  # consent lifecycle: the audit log for admins (issue 6)
    consent_export: ConsentExport  # consent lifecycle: parents' consent states, history PDF (issue 6)


def build_services(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Services:
    return Services(
        settings=settings,
        accounts=Accounts(sessions, settings),
        consent=Consent(sessions, settings),
        admins=Admins(sessions, settings),
        linking=Linking(sessions, settings),
        diary=Diary(sessions, settings),
        notify_prefs=NotifyPrefsService(sessions, settings),
        results=Results(sessions, settings),
        forecast_push=ForecastPush(sessions, settings),
        contacts=Contacts(sessions, settings, mailer=Mailer.from_settings(settings)),
        paper=PaperExtracts(sessions, settings),
        push=JournalPush(sessions, settings),
        delivery=DeliveryMonitor(sessions, settings),
        reports=Reports(sessions, settings),
        erasure=Erasure(sessions, settings),
        audit=Audit(sessions, settings),
        consent_export=ConsentExport(sessions, settings),
    )
