"""Agents and editors, identified by bearer tokens that are stored only as hashes."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from chatbot.escalation.tokens import hash_token, new_token, token_matches
from chatbot.storage.models import USER_ROLES, User

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class Actor:
    """Who did something: an authenticated user, recorded in the ticket history."""

    name: str
    role: str
    user_id: int | None = None
    departments: tuple[str, ...] | None = None
    """The departments an agent serves; None: all (also the system's own actors)."""
    languages: tuple[str, ...] | None = None
    """The languages an agent serves; None: all."""


def add_user(session: Session, *, name: str, role: str, now: datetime,
             departments: Sequence[str] | None = None, languages: Sequence[str] | None = None,
             known_departments: Collection[str] | None = None,
             known_languages: Collection[str] | None = None) -> tuple[User, str]:
    """Create a user and return it with its token, which is shown only this once.

    `departments` and `languages` say what an agent serves (None: everything); each
    must be one of `known_departments` / `known_languages` when those are given."""
    if not _NAME.match(name):
        raise InvalidInputError("name", "a user name is 1-64 letters, digits or . _ @ - "
                                        "and starts with a letter or digit")
    if role not in USER_ROLES:
        raise InvalidInputError("role", f"role must be one of {', '.join(USER_ROLES)}")
    served_departments = _served("departments", departments, known_departments)
    served_languages = _served("languages", languages, known_languages)
    if role != "agent" and (served_departments or served_languages):
        raise InvalidInputError("role", "only agents serve departments and languages")
    token = new_token()
    user = User(name=name, role=role, token_hash=hash_token(token), created_at=now,
                departments=served_departments, languages=served_languages)
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError(f"a user named {name!r} already exists") from exc
    return user, token


def _served(field: str, values: Sequence[str] | None, known: Collection[str] | None
            ) -> list[str] | None:
    """The values without blanks and repeats, in the given order; None for none."""
    if values is None:
        return None
    cleaned = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not cleaned:
        raise InvalidInputError(field, f"name at least one of the {field}, or leave it out "
                                       f"to serve all")
    if known is not None:
        unknown = [v for v in cleaned if v not in known]
        if unknown:
            raise InvalidInputError(field, f"unknown {field[:-1]} {unknown[0]!r}; known: "
                                           f"{', '.join(sorted(known))}")
    return cleaned


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def revoke_user(session: Session, *, name: str, now: datetime) -> User:
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    if user is None:
        raise NotFoundError(f"no user named {name!r}")
    if user.revoked_at is None:
        user.revoked_at = now
        session.commit()
    return user


def authenticate(session: Session, *, token: str | None) -> Actor:
    if not token:
        raise AuthenticationError("a bearer token is required")
    candidate = hash_token(token)
    user = session.scalars(select(User).where(User.token_hash == candidate)).one_or_none()
    # The lookup already matched the hash; the constant-time comparison keeps the
    # check itself free of timing differences should the lookup ever change.
    if user is None or not token_matches(token, user.token_hash) or user.revoked_at is not None:
        raise AuthenticationError("the bearer token is not valid")
    return actor_of(user)


def actor_of(user: User) -> Actor:
    return Actor(name=user.name, role=user.role, user_id=user.id,
                 departments=tuple(user.departments) if user.departments else None,
                 languages=tuple(user.languages) if user.languages else None)


def get_agent(session: Session, *, name: str) -> User:
    """An active agent by name (the assignee of a ticket)."""
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    if user is None or user.revoked_at is not None or user.role != "agent":
        raise InvalidInputError("assignee", f"no active agent named {name!r}")
    return user


def require_role(actor: Actor, *roles: str) -> Actor:
    if actor.role not in roles:
        raise PermissionDeniedError(
            f"this needs the role {' or '.join(roles)}; {actor.name} is {actor.role}")
    return actor
