"""Wiring of the escalation back office into the app: state, routers, start-up."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from chatbot.api.routes import agents, appointments, console, tickets
from chatbot.config import Settings
from chatbot.escalation.calendars import load_calendars
from chatbot.escalation.clock import Clock, utc_now
from chatbot.storage import Database, migrate


def install_backoffice(app: FastAPI, settings: Settings, *, clock: Clock | None = None) -> None:
    # Loaded here, not lazily: a broken calendars file must stop `chatbot serve` at once.
    app.state.calendars = load_calendars(settings.calendars_file)
    app.state.db = Database(settings.database_url)
    app.state.clock = clock or utc_now
    for module in (tickets, appointments, agents, console):
        app.include_router(module.router)


async def start_backoffice(app: FastAPI, settings: Settings) -> None:
    if settings.auto_migrate:
        await run_in_threadpool(migrate, settings)


def stop_backoffice(app: FastAPI) -> None:
    database: Database = app.state.db
    database.dispose()
