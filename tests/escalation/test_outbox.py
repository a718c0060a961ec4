"""The e-mail outbox against a real SMTP server (aiosmtpd) and a real database.

Replies and status changes write their notification in their own transaction; the
sender delivers it in the citizen's language with a working link; an SMTP outage
delays mail without losing or doubling any; failures back off exponentially on the
injected clock; two senders never send the same row.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatbot.config import Settings
from chatbot.errors import NotFoundError
from chatbot.escalation.mail import MailComposer, parse_smtp_url, smtp_config
from chatbot.escalation.outbox import (
    NOT_CONFIGURED,
    OutboxSender,
    backoff,
    claim_due,
    list_messages,
    outbox_sender,
    retry,
)
from chatbot.escalation.tickets import (
    Notify,
    TicketRequest,
    add_citizen_message,
    add_note,
    add_reply,
    change_status,
    create_ticket,
    get_ticket_for_citizen,
)
from chatbot.escalation.users import Actor
from chatbot.storage import Database
from chatbot.storage.models import OutboxMessage, TicketAccessCode, TicketEvent
from tests.conftest import FakeClock
from tests.smtp_server import SmtpServer, body_of

AGENT = Actor(user_id=None, name="a.schmidt", role="agent")
BASE = "https://buergerservice.example-stadt.de"
NOTIFY = Notify(base_url=BASE, deliver=True)
LINK = re.compile(re.escape(BASE) + r"/anliegen/(KR-\d{4}-\d{6})#code=([A-Za-z0-9_-]{20,})")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def make_sender(database: Database, smtp: SmtpServer, clock: FakeClock, **overrides: object
                ) -> OutboxSender:
    settings = Settings(database_url="sqlite://", smtp_url=smtp.url,
                        smtp_from="Bürgerservice <buergerservice@example-stadt.de>",
                        **overrides)  # type: ignore[arg-type]
    sender = outbox_sender(settings, database, clock)
    assert sender is not None
    return sender


def new_ticket(database: Database, clock: FakeClock, *, lang: str = "de",
               email: str | None = "erika@example.org", key: str | None = None) -> str:
    with database.write_session() as session:
        created = create_ticket(session, request=TicketRequest(
            message="Mein Reisepass ist abgelaufen.", preferred_language=lang, consent=True,
            contact_email=email, contact_phone=None if email else "0221 1234567",
            contact_name="Erika"), departments={"buergerservice"}, idempotency_key=key,
            now=clock())
        return created.ticket.reference


def reply(database: Database, clock: FakeClock, reference: str, text: str = "Bitte kommen "
          "Sie mit dem alten Pass vorbei.") -> None:
    with database.write_session() as session:
        add_reply(session, reference=reference, text=text, actor=AGENT, now=clock(),
                  notify=NOTIFY)


def count(database: Database, model: type[OutboxMessage] | type[TicketAccessCode]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def states(database: Database) -> list[tuple[str, int]]:
    with database.session() as session:
        return [(m.state, m.attempts) for m in list_messages(session)]


def test_a_reply_reaches_the_citizen_in_their_language_with_a_working_link(
        database: Database, clock: FakeClock, smtp: SmtpServer,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    reference = new_ticket(database, clock, lang="tr")
    reply(database, clock, reference)
    assert states(database) == [("pending", 0)]

    report = make_sender(database, smtp, clock).send_due()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [message] = smtp.wait_for(1)
    assert smtp.inbox.recipients == [["erika@example.org"]]
    assert message["To"] == "erika@example.org"
    assert message["Content-Language"] == "tr"
    assert message["Subject"] == f"{reference} numaralı talebinize yanıt"
    body = body_of(message)
    assert "Merhaba Erika," in body
    assert "vatandaş hizmetleri" in body
    # The page without the code, for typing the code in by hand.
    assert re.search(re.escape(f"{BASE}/anliegen/{reference}") + r"\s", body)
    match = LINK.search(body)
    assert match is not None
    assert match.group(1) == reference
    code = match.group(2)
    assert f"\n{code}\n" in body
    # The agent's words stay behind the link, not in the e-mail.
    assert "alten Pass" not in body

    with database.session() as session:
        ticket = get_ticket_for_citizen(session, reference=reference, token=code)
        assert ticket.reference == reference
        with pytest.raises(NotFoundError):
            get_ticket_for_citizen(session, reference=reference, token=code[:-1] + "x")
        row = session.scalars(select(OutboxMessage)).one()
    assert (row.state, row.attempts, row.sent_at) == ("sent", 1, clock())
    assert row.claimed_until is None
    # Nothing is sent twice, and no log line carries the code.
    assert make_sender(database, smtp, clock).send_due().sent == 0
    assert len(smtp.messages) == 1
    # (aiosmtpd's own debug log, the receiving server's, shows the message: left out.)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert "outbox: sent notification" in ours
    assert code not in ours
    assert "erika@example.org" not in ours


def test_a_status_change_names_the_new_state_in_the_citizens_language(
        database: Database, clock: FakeClock, smtp: SmtpServer) -> None:
    reference = new_ticket(database, clock, lang="fr")
    with database.write_session() as session:
        change_status(session, reference=reference, to_status="in_progress", actor=AGENT,
                      now=clock(), notify=NOTIFY)
    make_sender(database, smtp, clock).send_due()
    [message] = smtp.wait_for(1)
    assert message["Subject"] == f"Votre demande {reference} : En cours de traitement"
    assert "a changé : En cours de traitement." in body_of(message)


@pytest.mark.parametrize("lang", ["de", "en", "fr", "it", "pl", "tr", "ku"])
def test_every_language_has_its_mail(lang: str) -> None:
    composer = MailComposer(Path("prompts"))
    for kind in ("reply", "status"):
        mail = composer.compose(lang, kind=kind, reference="KR-2026-000001", status="S",
                                link="L#code=C", page_url="P", code="C", name=None)
        assert "KR-2026-000001" in mail.subject
        assert "L#code=C" in mail.body
        assert "\nC\n" in mail.body
    german = composer.compose("de", kind="reply", reference="R", status="S", link="L",
                              page_url="P", code="C", name=None)
    if lang != "de":
        assert mail.body != german.body


def test_an_outage_delays_mail_but_loses_none_and_sends_none_twice(
        database: Database, clock: FakeClock, smtp: SmtpServer) -> None:
    sender = make_sender(database, smtp, clock)
    first = new_ticket(database, clock, email="erika@example.org")
    second = new_ticket(database, clock, email="max@example.org")
    smtp.stop()  # the SMTP server goes down while agents work
    reply(database, clock, first)
    with database.write_session() as session:
        change_status(session, reference=second, to_status="in_progress", actor=AGENT,
                      now=clock(), notify=NOTIFY)

    report = sender.send_due()
    assert (report.sent, report.retrying) == (0, 2)
    assert states(database) == [("pending", 1), ("pending", 1)]
    # The codes made for the unsent mails are gone again: no valid token nobody has.
    assert count(database, TicketAccessCode) == 0
    with database.session() as session:
        errors = {m.last_error for m in list_messages(session)}
        assert all(e and "127.0.0.1" in e for e in errors)

    smtp.start()
    assert sender.send_due().sent == 0  # backing off: not due yet
    clock.advance(seconds=29)
    assert sender.send_due().sent == 0
    clock.advance(seconds=1)
    assert sender.send_due().sent == 2
    assert sender.send_due().sent == 0
    messages = smtp.wait_for(2)
    assert sorted(str(m["To"]) for m in messages) == ["erika@example.org", "max@example.org"]
    assert len({m["Message-ID"] for m in messages}) == 2
    assert states(database) == [("sent", 2), ("sent", 2)]


def test_failures_back_off_exponentially_then_fail_and_can_be_retried(
        database: Database, clock: FakeClock, smtp: SmtpServer) -> None:
    sender = make_sender(database, smtp, clock, outbox_max_attempts=3,
                         outbox_backoff_seconds=10)
    reference = new_ticket(database, clock)
    smtp.stop()
    reply(database, clock, reference)
    start = clock()
    waits = []
    for _ in range(3):
        assert sender.send_due().sent == 0
        with database.session() as session:
            row = session.scalars(select(OutboxMessage)).one()
        waits.append(row.next_attempt_at - start)
        clock.now = row.next_attempt_at
        start = clock()
    assert waits[:2] == [timedelta(seconds=10), timedelta(seconds=20)]
    assert states(database) == [("failed", 3)]
    assert sender.send_due().sent == 0  # failed rows wait for an operator

    smtp.start()
    with database.write_session() as session:
        assert retry(session, now=clock()) == 1
    assert states(database) == [("pending", 0)]
    assert sender.send_due().sent == 1
    assert len(smtp.wait_for(1)) == 1
    assert backoff(20, timedelta(seconds=30)) == timedelta(hours=6)


def test_two_senders_at_once_send_every_message_exactly_once(
        database: Database, clock: FakeClock, smtp: SmtpServer) -> None:
    references = [new_ticket(database, clock, email=f"b{i}@example.org") for i in range(8)]
    for reference in references:
        reply(database, clock, reference)
    senders = [make_sender(database, smtp, clock) for _ in range(2)]
    senders[1].worker = "other-replica:1"
    barrier = threading.Barrier(2)

    def run(sender: OutboxSender) -> None:
        barrier.wait()
        sender.send_due(limit=3)
        sender.send_due(limit=3)
        sender.send_due(limit=3)

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    smtp.wait_for(8)
    recipients = sorted(str(m["To"]) for m in smtp.messages)
    assert recipients == sorted(f"b{i}@example.org" for i in range(8))
    assert states(database) == [("sent", 1)] * 8


def test_a_claimed_row_is_left_alone_until_its_lease_ends(database: Database,
                                                          clock: FakeClock) -> None:
    reply(database, clock, new_ticket(database, clock))
    with database.write_session() as session:
        assert len(claim_due(session, now=clock(), worker="a")) == 1
    with database.write_session() as session:
        assert claim_due(session, now=clock(), worker="b") == []
    clock.advance(minutes=5)  # worker a died while sending
    with database.write_session() as session:
        assert len(claim_due(session, now=clock(), worker="b")) == 1


def test_without_smtp_the_mail_is_recorded_as_skipped(database: Database,
                                                      clock: FakeClock) -> None:
    reference = new_ticket(database, clock)
    with database.write_session() as session:
        add_reply(session, reference=reference, text="Antwort", actor=AGENT, now=clock(),
                  notify=Notify(base_url=BASE, deliver=False))
    with database.session() as session:
        [row] = list_messages(session, states=["skipped"])
    assert row.last_error == NOT_CONFIGURED
    assert outbox_sender(Settings(database_url="sqlite://"), database, clock) is None


def test_no_mail_without_an_address_and_none_for_internal_notes(database: Database,
                                                               clock: FakeClock) -> None:
    by_phone = new_ticket(database, clock, email=None)
    reply(database, clock, by_phone)
    with database.write_session() as session:
        add_note(session, reference=new_ticket(database, clock), text="intern", actor=AGENT,
                 now=clock())
    assert count(database, OutboxMessage) == 0


def test_a_rolled_back_reply_leaves_no_mail(database: Database, clock: FakeClock) -> None:
    reference = new_ticket(database, clock)
    with database.write_session() as session:
        change_status(session, reference=reference, to_status="closed", actor=AGENT,
                      now=clock())
    with database.write_session() as session, pytest.raises(Exception, match="closed"):
        add_reply(session, reference=reference, text="zu spät", actor=AGENT, now=clock(),
                  notify=NOTIFY)
    assert count(database, OutboxMessage) == 0


# Login without TLS: the test server listens on loopback only.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_from_the_url(database: Database, clock: FakeClock) -> None:
    server = SmtpServer(login=("buergerservice", "s3cret:pw")).start()
    try:
        reference = new_ticket(database, clock)
        reply(database, clock, reference)
        wrong = SmtpServer(login=("buergerservice", "wrong"))
        wrong.port = server.port
        # (aiosmtpd answers smtplib's second mechanism after a refusal only by timing out.)
        assert make_sender(database, wrong, clock,
                           smtp_timeout_seconds=2).send_due().retrying == 1
        with database.session() as session:
            error = list_messages(session)[0].last_error or ""
        # A refused login (or the server hanging up on it) is retried like an outage.
        assert error.startswith("smtp://127.0.0.1:")
        assert "wrong" not in error
        clock.advance(minutes=1)
        assert make_sender(database, server, clock).send_due().sent == 1
        assert len(server.wait_for(1)) == 1
    finally:
        server.stop()


def test_the_citizens_answer_is_masked_and_reopens_the_ticket(database: Database,
                                                              clock: FakeClock) -> None:
    key = "citizen-answer-key-1"
    reference = new_ticket(database, clock, key=key)
    with database.write_session() as session:
        change_status(session, reference=reference, to_status="in_progress", actor=AGENT,
                      now=clock())
        change_status(session, reference=reference, to_status="waiting_for_citizen",
                      actor=AGENT, now=clock())
    with database.write_session() as session:
        token = create_ticket(session, request=TicketRequest(
            message="Mein Reisepass ist abgelaufen.", preferred_language="de", consent=True,
            contact_email="erika@example.org", contact_name="Erika"),
            departments=set(), idempotency_key=key, now=clock()).access_token
    with database.write_session() as session:
        ticket = add_citizen_message(session, reference=reference, token=token,
                                     text="Meine Nummer ist 0171 2345678.", now=clock())
        assert ticket.status == "in_progress"
    with database.session() as session:
        events = session.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
    assert [(e.kind, e.to_status) for e in events][-2:] == [("citizen_reply", None),
                                                           ("status", "in_progress")]
    assert events[-2].body == "Meine Nummer ist [phone]."
    with database.write_session() as session, pytest.raises(NotFoundError):
        add_citizen_message(session, reference=reference, token="wrong", text="x",
                            now=clock())


def test_smtp_urls() -> None:
    assert parse_smtp_url("smtps://mail.example.de") == ("mail.example.de", 465, True, False,
                                                         None, None)
    assert parse_smtp_url("smtp://u%40x:p%3Aw@mail.example.de:2525?starttls=false") == (
        "mail.example.de", 2525, False, False, "u@x", "p:w")
    assert parse_smtp_url("smtp://mail.example.de")[1:4] == (587, False, True)
    for bad, message in [("http://mail.example.de", "smtp://"),
                         ("smtp://user:hunter2@", "no host"),
                         ("smtp://user:hunter2@mail.example.de?tls=1", "unknown option"),
                         ("smtp://user:hunter2@mail.example.de?starttls=maybe", "true or false")]:
        with pytest.raises(ValueError, match=message) as raised:
            parse_smtp_url(bad)
        assert "hunter2" not in str(raised.value)
    with pytest.raises(ValueError, match=r"smtp_url") as raised:
        Settings(smtp_url="ftp://user:hunter2@host")  # type: ignore[arg-type]
    assert "hunter2" not in str(raised.value)
    settings = Settings(smtp_url="smtp://mail.example.de", smtp_username="u",  # type: ignore[arg-type]
                        smtp_password="pw")  # type: ignore[arg-type]
    config = smtp_config(settings)
    assert config is not None
    assert (config.username, config.password) == ("u", "pw")
    assert "pw" not in repr(settings)
