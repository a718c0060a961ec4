"""Wiring of the escalation back office into the app: state, routers, start-up, and
the background sender of the e-mail outbox."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from chatbot.api.routes import (
    agents,
    appointments,
    console,
    defect_reports,
    status_page,
    tickets,
)
from chatbot.config import Settings
from chatbot.defects.catalogue import Catalogue
from chatbot.defects.forwarding import Forwarder, forwarder, open311_client
from chatbot.errors import ChatbotError
from chatbot.escalation.calendars import load_calendars
from chatbot.escalation.clock import Clock, utc_now
from chatbot.escalation.mail import MailComposer
from chatbot.escalation.outbox import OutboxSender, outbox_sender
from chatbot.escalation.status_texts import load_status_texts
from chatbot.storage import Database, migrate

log = logging.getLogger(__name__)


def install_backoffice(app: FastAPI, settings: Settings, *, clock: Clock | None = None) -> None:
    # Loaded here, not lazily: a broken calendars file must stop `chatbot serve` at once.
    app.state.calendars = load_calendars(settings.calendars_file)
    app.state.db = Database(settings.database_url)
    app.state.clock = clock or utc_now
    # The citizens' status page and e-mails: missing or broken texts stop start-up too.
    load_status_texts(settings.prompts_dir)
    app.state.mail_composer = MailComposer(settings.prompts_dir)
    app.state.outbox_task = None
    # Defect reports: the Open311 endpoint, or tickets for the configured department.
    if settings.open311_url is None and (settings.open311_fallback_department
                                         not in app.state.calendars.departments):
        raise ChatbotError(
            f"CHATBOT_OPEN311_FALLBACK_DEPARTMENT {settings.open311_fallback_department!r} is "
            f"not a department of {settings.calendars_file}")
    client = open311_client(settings)
    app.state.defect_catalogue = Catalogue(
        client, cache_seconds=settings.open311_services_cache_seconds)
    app.state.defect_forwarder = forwarder(settings, app.state.db, app.state.clock, client)
    app.state.open311_task = None
    for module in (tickets, appointments, agents, console, status_page, defect_reports):
        app.include_router(module.router)


async def start_backoffice(app: FastAPI, settings: Settings) -> None:
    if settings.auto_migrate:
        await run_in_threadpool(migrate, settings)
    sender = outbox_sender(settings, app.state.db, app.state.clock)
    if sender is None:
        log.warning("e-mail is not configured (CHATBOT_SMTP_URL): citizens get no "
                    "notifications; the outbox records them as skipped")
    elif settings.outbox_poll_seconds > 0:
        app.state.outbox_task = asyncio.create_task(
            _send_outbox(sender, settings.outbox_poll_seconds))
    defects: Forwarder | None = app.state.defect_forwarder
    if defects is not None and settings.outbox_poll_seconds > 0:
        app.state.open311_task = asyncio.create_task(
            _forward_defects(defects, settings.outbox_poll_seconds))


async def _send_outbox(sender: OutboxSender, interval: float) -> None:
    """Every `interval` seconds, send what is due (in a worker thread: smtplib blocks)."""
    while True:
        try:
            await run_in_threadpool(sender.send_due)
        except ChatbotError as exc:  # the database is down: try again next round
            log.warning("outbox: %s", exc)
        except Exception:  # a bug must not stop notifications for the process's life
            log.exception("outbox: unexpected error")
        await asyncio.sleep(interval)


async def _forward_defects(defects: Forwarder, interval: float) -> None:
    """Every `interval` seconds, forward due defect reports and refresh a few remote
    statuses (in a worker thread: the HTTP client blocks)."""
    while True:
        try:
            await run_in_threadpool(defects.send_due)
            await run_in_threadpool(defects.refresh_stale)
        except ChatbotError as exc:
            log.warning("open311: %s", exc)
        except Exception:
            log.exception("open311: unexpected error")
        await asyncio.sleep(interval)


def stop_backoffice(app: FastAPI) -> None:
    for name in ("outbox_task", "open311_task"):
        task: asyncio.Task[None] | None = getattr(app.state, name, None)
        if task is not None:
            task.cancel()
    database: Database = app.state.db
    database.dispose()
