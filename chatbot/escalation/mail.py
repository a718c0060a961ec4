"""Notification e-mails: SMTP settings, composing from `prompts/<lang>/`, sending.

Sending uses the standard library's smtplib: `smtp://` with STARTTLS (unless
`?starttls=false`, for a relay on the same host), `smtps://` with TLS from the start.
Credentials come from the URL or from `CHATBOT_SMTP_USERNAME`/`CHATBOT_SMTP_PASSWORD`;
no message or log line carries the password (or the access code in a mail's link).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from chatbot.config import Settings, checkout_path
from chatbot.errors import ChatbotError
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.prompt_templates import checked_environment

# `prompts/<lang>/<name>.txt.j2`; the subject is the body template's first line.
MAIL_TEMPLATES = ("ticket_update",)
SUFFIX = ".txt.j2"
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class MailError(ChatbotError):
    """The SMTP server could not be reached or refused the message (retried later)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    ssl: bool  # smtps://: TLS from the first byte
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float

    def describe(self) -> str:
        """For messages and logs: never the credentials."""
        scheme = "smtps" if self.ssl else "smtp"
        tls = "" if self.ssl else ("" if self.starttls else " without STARTTLS")
        return f"{scheme}://{self.host}:{self.port}{tls}"


def parse_smtp_url(url: str) -> tuple[str, int, bool, bool, str | None, str | None]:
    """(host, port, ssl, starttls, username, password); a ValueError names what is
    wrong without quoting the URL (it may hold a password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError("must start with smtp:// (STARTTLS) or smtps:// (TLS)")
    if not parts.hostname:
        raise ValueError("names no host, e.g. smtp://mail.example.de:587")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"has an unknown option {sorted(unknown)[0]!r} (only starttls)")
    starttls_value = query.get("starttls", ["true"])[-1].lower()
    if starttls_value not in ("true", "false"):
        raise ValueError("starttls must be true or false")
    use_ssl = parts.scheme == "smtps"
    starttls = not use_ssl and starttls_value == "true"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname, port, use_ssl, starttls, username, password


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """None when no SMTP server is configured: then nothing is sent."""
    if settings.smtp_url is None:
        return None
    host, port, use_ssl, starttls, username, password = parse_smtp_url(
        settings.smtp_url.get_secret_value())
    return SmtpConfig(
        host=host, port=port, ssl=use_ssl, starttls=starttls,
        username=username or settings.smtp_username,
        password=password or (settings.smtp_password.get_secret_value()
                              if settings.smtp_password else None),
        sender=settings.smtp_from, timeout=settings.smtp_timeout_seconds)


def send_mail(config: SmtpConfig, message: EmailMessage) -> None:
    """One message over one connection; every failure is a MailError whose text names
    the server and the kind of failure, never the message or the credentials."""
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if config.ssl:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with smtp:
            if config.starttls:
                smtp.starttls(context=context)
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"{config.describe()} refused: {exc.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{config.describe()}: {type(exc).__name__}") from None


@dataclass(frozen=True)
class ComposedMail:
    subject: str
    body: str


class MailComposer:
    """The notification templates of every supported language, checked at start-up
    like the chat's (a missing or broken one stops `chatbot serve`)."""

    def __init__(self, prompts_dir: Path) -> None:
        self.env = checked_environment(checkout_path(prompts_dir), MAIL_TEMPLATES, SUFFIX,
                                       what="e-mail templates", error=ChatbotError)

    def compose(self, lang: str, *, kind: str, reference: str, status: str, link: str,
                page_url: str, code: str, name: str | None) -> ComposedMail:
        lang = lang if lang in SUPPORTED_LANGUAGES else "de"
        text = self.env.get_template(f"{lang}/ticket_update{SUFFIX}").render(
            kind=kind, reference=reference, status=status, link=link, page_url=page_url,
            code=code, name=name).strip()
        subject, _, body = text.partition("\n")
        return ComposedMail(subject=subject.strip(), body=body.strip() + "\n")


def build_message(config: SmtpConfig, *, recipient: str, mail: ComposedMail, lang: str,
                  message_key: str) -> EmailMessage:
    """`message_key` makes the Message-ID stable across retries of one outbox row, so
    a receiving server can drop a duplicate after a crash between sending and marking."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    domain = config.sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    message["Message-ID"] = f"<{message_key}@{domain}>" if message_key else make_msgid()
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body, charset="utf-8")
    message["Content-Language"] = lang  # after set_content, which clears Content-* headers
    return message
