"""Wiring of the escalation back office into the app: state, routers, start-up, and
the background sender of the e-mail outbox."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from chatbot.api.routes import agents, appointments, console, status_page, tickets
from chatbot.config import Settings
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
    for module in (tickets, appointments, agents, console, status_page):
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


def stop_backoffice(app: FastAPI) -> None:
    task: asyncio.Task[None] | None = getattr(app.state, "outbox_task", None)
    if task is not None:
        task.cancel()
    database: Database = app.state.db
    database.dispose()
