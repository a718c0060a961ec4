"""Agents and editors, identified by bearer tokens that are stored only as hashes."""

from __future__ import annotations

import re
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


def add_user(session: Session, *, name: str, role: str, now: datetime) -> tuple[User, str]:
    """Create a user and return it with its token, which is shown only this once."""
    if not _NAME.match(name):
        raise InvalidInputError("name", "a user name is 1-64 letters, digits or . _ @ - "
                                        "and starts with a letter or digit")
    if role not in USER_ROLES:
        raise InvalidInputError("role", f"role must be one of {', '.join(USER_ROLES)}")
    token = new_token()
    user = User(name=name, role=role, token_hash=hash_token(token), created_at=now)
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError(f"a user named {name!r} already exists") from exc
    return user, token


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
    return Actor(name=user.name, role=user.role, user_id=user.id)


def require_role(actor: Actor, *roles: str) -> Actor:
    if actor.role not in roles:
        raise PermissionDeniedError(
            f"this needs the role {' or '.join(roles)}; {actor.name} is {actor.role}")
    return actor
