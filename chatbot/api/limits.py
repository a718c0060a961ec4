"""Abuse limits at the HTTP edge, before any request body is parsed.

One pure ASGI middleware, in this order:

1. **Rate limits** per client and endpoint class (chat, search, tickets, bookings,
   case-status look-ups): sliding windows (a log of request times, so a burst at a
   window's edge cannot double the budget), 429 + `Retry-After`. Clients are keyed by
   a salted hash of their address, never the address itself; `X-Forwarded-For` counts
   only when the peer is one of `CHATBOT_TRUSTED_PROXIES`. With `CHATBOT_REDIS_URL`
   the windows live in Redis (one Lua script per request, so replicas share a budget
   atomically); otherwise in this process.
2. **Body size**: `Content-Length` above the limit, or a streamed body that grows
   past it, gets 413 before the app reads it.
3. **Load shedding**: chat and search (CPU-bound model work) run at most
   `model_max_active` at once; `model_max_waiting` more may wait, further ones get
   503 + `Retry-After` at once instead of joining an unbounded queue.
4. **Conversation length**: a chat message to a conversation that already has
   `max_conversation_turns` citizen messages gets 409 (see `_turn_limit_response`).

Every refusal is `application/problem+json` (RFC 9457) with type/title/status/detail.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import RedisError
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.api.problems import PROBLEM_MEDIA_TYPE, TYPE_PREFIX
from chatbot.config import RateWindow, Settings, parse_rate_limit
from chatbot.storage import Database
from chatbot.storage.models import ConversationMessage

log = logging.getLogger(__name__)


# (method, route template) -> endpoint class; matched on the path before routing, so a
# refused request costs no routing, parsing or database work.
ENDPOINT_CLASSES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/chat"): "chat",
    ("POST", "/api/v1/search"): "search",
    ("POST", "/api/v1/tickets"): "tickets",
    ("POST", "/api/v1/appointments"): "bookings",
    ("GET", "/api/v1/tickets/{reference}"): "status",
    # A citizen writing back on the status page: a write, limited like new tickets.
    ("POST", "/api/v1/tickets/{reference}/messages"): "tickets",
    ("GET", "/api/v1/appointments/{reference}"): "status",
    ("GET", "/api/v1/appointments/{reference}/ics"): "status",
    ("DELETE", "/api/v1/appointments/{reference}"): "status",
    # Number + date of birth look-ups: limited so that pairs cannot be tried in bulk.
    ("POST", "/api/v1/case-status"): "case_status",
    ("POST", "/api/v1/defect-reports"): "defect_reports",
    ("GET", "/api/v1/defect-reports/{reference}"): "status",
}
# Endpoints whose bodies may be larger than `max_body_bytes`: a report's photo travels
# as base64 (a third larger) in the JSON body.
LARGE_BODY_CLASSES = frozenset({"defect_reports"})
MODEL_CLASSES = frozenset({"chat", "search"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- responses ------------------------------------------------------------------------------


async def send_problem(send: Send, *, status: int, slug: str, title: str, detail: str,
                       retry_after: int | None = None) -> None:
    body = json.dumps({"type": TYPE_PREFIX + slug, "title": title, "status": status,
                       "detail": detail}).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
               (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- client identity ------------------------------------------------------------------------


class ClientIdentifier:
    """A salted hash of the client's address: enough to count requests, useless to
    recover the address from logs or Redis."""

    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def address(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if not self._is_trusted(peer):
            return peer
        forwarded = [part.strip() for value in _header_values(scope, b"x-forwarded-for")
                     for part in value.split(",") if part.strip()]
        # Each proxy appends the address it saw; the rightmost one no trusted proxy
        # vouches for is the client. Anything to its left is the client's own claim.
        for hop in reversed(forwarded):
            if not self._is_trusted(hop):
                return hop
        return forwarded[0] if forwarded else peer

    def key(self, scope: Scope, salt: bytes) -> str:
        return hmac.new(salt, _budget_unit(self.address(scope)).encode(),
                        hashlib.sha256).hexdigest()[:32]

    def _is_trusted(self, address: str) -> bool:
        ip = _parse_ip(address)
        return ip is not None and any(ip in network for network in self._trusted)


def _parse_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _budget_unit(address: str) -> str:
    """One budget per IPv4 address and per IPv6 /64: a household or phone gets a whole
    /64 and could otherwise take a fresh address for every request."""
    ip = _parse_ip(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip) if ip is not None else address


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]


# --- sliding-window limiters ------------------------------------------------------------------


class Limiter(Protocol):
    async def salt(self) -> bytes: ...

    async def hit(self, key: str, windows: tuple[RateWindow, ...]) -> float:
        """Record one request and return 0, or return the seconds until one would be
        allowed (and record nothing)."""
        ...

    async def close(self) -> None: ...


class InProcessLimiter:
    """Request times per key in this process; enough for a single server."""

    SWEEP_EVERY = 10_000
    MAX_CLIENTS = 200_000

    def __init__(self, salt: bytes | None = None, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self._salt = salt or secrets.token_bytes(32)
        self._clock = clock
        self._times: dict[str, list[float]] = {}
        self._longest: dict[str, int] = {}
        self._hits = 0

    async def salt(self) -> bytes:
        return self._salt

    async def hit(self, key: str, windows: tuple[RateWindow, ...]) -> float:
        return self.hit_now(key, windows)

    def hit_now(self, key: str, windows: tuple[RateWindow, ...]) -> float:
        now = self._clock()
        longest = max(w.seconds for w in windows)
        times = self._times.setdefault(key, [])
        del times[:bisect.bisect_right(times, now - longest)]
        wait = 0.0
        for window in windows:
            recent = len(times) - bisect.bisect_right(times, now - window.seconds)
            if recent >= window.limit:
                # The request that must age out before one more fits.
                wait = max(wait, times[len(times) - window.limit] + window.seconds - now)
        if wait > 0:
            return wait
        times.append(now)
        self._longest[key] = longest
        self._hits += 1
        if self._hits % self.SWEEP_EVERY == 0 or len(self._times) > self.MAX_CLIENTS:
            self._sweep(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        """Forget clients whose last request left every window (bounded memory)."""
        for key in [k for k, t in self._times.items()
                    if not t or t[-1] <= now - self._longest.get(k, 0)]:
            self._times.pop(key, None)
            self._longest.pop(key, None)
        if len(self._times) > self.MAX_CLIENTS:
            # Someone rotating addresses: forget the quietest half rather than grow
            # without bound (those clients get a fresh budget; memory stays bounded).
            by_last_hit = sorted(self._times, key=lambda k: self._times[k][-1])
            for key in by_last_hit[:len(by_last_hit) // 2]:
                self._times.pop(key, None)
                self._longest.pop(key, None)

    async def close(self) -> None:
        return None


# KEYS: one sorted set per window. ARGV: a unique member, then limit and window (ms)
# per key. The server's clock, so replicas with skewed clocks agree. Returns 0 when the
# request was recorded in every window, else the milliseconds to wait.
_SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local until_free = tonumber(oldest[2]) + window - now
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 1]))
end
return 0
"""


class RedisLimiter:
    """Windows in Redis, shared by every replica. When Redis cannot be reached the
    process falls back to counting on its own (logged) rather than refusing citizens."""

    def __init__(self, url: str, *, prefix: str, salt: bytes | None) -> None:
        import redis.asyncio as redis_asyncio

        self._client = redis_asyncio.Redis.from_url(url, socket_timeout=0.5,
                                                    socket_connect_timeout=0.5)
        self._prefix = prefix
        self._script = self._client.register_script(_SLIDING_WINDOW_LUA)
        self._salt = salt
        self._fallback = InProcessLimiter(salt)
        self._warned_at = -math.inf

    async def salt(self) -> bytes:
        if self._salt is None:
            # Every replica must hash a client alike, or budgets would not add up.
            key = f"{self._prefix}:limits:salt"
            try:
                await self._client.set(key, secrets.token_hex(32), nx=True)
                stored = await self._client.get(key)
            except (RedisError, OSError) as exc:
                self._warn(exc)
                return await self._fallback.salt()
            if stored is None:  # expired in between; count alone until the next request
                return await self._fallback.salt()
            self._salt = stored.encode() if isinstance(stored, str) else bytes(stored)
        return self._salt

    async def hit(self, key: str, windows: tuple[RateWindow, ...]) -> float:
        # One hash tag per client: a script's keys must share a Redis Cluster slot.
        keys = [f"{self._prefix}:limits:{{{key}}}:{w.limit}/{w.seconds}" for w in windows]
        args: list[str | int] = [secrets.token_hex(8)]
        for window in windows:
            args += [window.limit, window.seconds * 1000]
        try:
            wait_ms = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return await self._fallback.hit(key, windows)
        return int(wait_ms) / 1000

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.error("rate limits: Redis unavailable, counting in this process only: %s",
                      exc)

    async def close(self) -> None:
        await self._client.aclose()


def make_limiter(settings: Settings) -> Limiter:
    salt = (settings.client_hash_salt.get_secret_value().encode()
            if settings.client_hash_salt else None)
    if settings.redis_url:
        return RedisLimiter(settings.redis_url, prefix=settings.redis_key_prefix, salt=salt)
    return InProcessLimiter(salt)


# --- load shedding ------------------------------------------------------------------------------


class ModelGate:
    """At most `max_active` model requests at once and `max_waiting` in line."""

    def __init__(self, max_active: int, max_waiting: int, timeout: float) -> None:
        self.max_active = max_active
        self.max_waiting = max_waiting
        self.timeout = timeout
        self.active = 0
        self.waiting = 0
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current_semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            # A new event loop (a test client's second run): start afresh.
            self._semaphore, self._loop = asyncio.Semaphore(self.max_active), loop
            self.active = self.waiting = 0
        return self._semaphore

    async def enter(self) -> bool:
        """True with a place taken (call `leave`), False when the caller must be shed."""
        semaphore = self._current_semaphore()
        if self.active >= self.max_active and self.waiting >= self.max_waiting:
            return False
        self.waiting += 1
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a permit that is
            # granted just as the timeout fires.
            async with asyncio.timeout(self.timeout):
                await semaphore.acquire()
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
        self.active += 1
        return True

    def leave(self) -> None:
        self.active -= 1
        if self._semaphore is not None:
            self._semaphore.release()


# --- the middleware -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Policy:
    enabled: bool
    windows: dict[str, tuple[RateWindow, ...]]
    max_body_bytes: int
    large_body_bytes: int
    max_turns: int
    overload_retry_after: int


class _BodyTooLargeError(Exception):
    pass


class _ClientGoneError(Exception):
    pass


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.policy = _Policy(
            enabled=settings.rate_limits_enabled,
            windows={name: parse_rate_limit(getattr(settings, f"rate_limit_{name}"))
                     for name in ("chat", "search", "tickets", "bookings", "status",
                                  "case_status", "defect_reports")},
            max_body_bytes=settings.max_body_bytes,
            large_body_bytes=max(settings.max_body_bytes,
                                 settings.defect_photo_max_bytes * 4 // 3 + 64 * 1024),
            max_turns=settings.max_conversation_turns,
            overload_retry_after=settings.overload_retry_after_seconds)
        self.identifier = ClientIdentifier(settings.trusted_proxies)
        self.limiter = make_limiter(settings)
        self.gate = ModelGate(settings.model_max_active, settings.model_max_waiting,
                              settings.model_queue_timeout_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing_on_shutdown(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = _endpoint_class(scope)
        if endpoint is not None and self.policy.enabled:
            client = self.identifier.key(scope, await self.limiter.salt())
            wait = await self.limiter.hit(f"{endpoint}:{client}", self.policy.windows[endpoint])
            if wait > 0:
                log.debug("rate limit %s reached by client %s", endpoint, client)
                _count_rejection(scope, endpoint, "rate_limited")
                seconds = max(1, math.ceil(wait))
                await send_problem(
                    send, status=429, slug="rate-limited", title="Too many requests",
                    detail=f"Too many {endpoint} requests from this address; try again in "
                           f"{seconds} s.", retry_after=seconds)
                return
        if scope["method"] in BODY_METHODS:
            limit = (self.policy.large_body_bytes if endpoint in LARGE_BODY_CLASSES
                     else self.policy.max_body_bytes)
            try:
                body = await self._read_body(scope, receive, limit)
            except _ClientGoneError:
                return  # nobody is waiting for an answer
            except _BodyTooLargeError:
                _count_rejection(scope, endpoint, "body_too_large")
                await send_problem(
                    send, status=413, slug="body-too-large", title="Request body too large",
                    detail=f"The request body is larger than {limit} "
                           "bytes.")
                return
            receive = _replay(body, receive)
        else:
            body = b""
        if endpoint not in MODEL_CLASSES:
            await self.app(scope, receive, send)
            return
        if not await self.gate.enter():
            _count_rejection(scope, endpoint, "overloaded")
            await send_problem(
                send, status=503, slug="overloaded", title="Service busy",
                detail="Too many chat and search requests are in progress; try again shortly.",
                retry_after=self.policy.overload_retry_after)
            return
        try:
            if endpoint == "chat" and await self._conversation_full(scope, body):
                _count_rejection(scope, endpoint, "conversation_too_long")
                await send_problem(
                    send, status=409, slug="conversation-too-long",
                    title="Conversation too long",
                    detail=f"This conversation has reached {self.policy.max_turns} messages. "
                           "Start a new conversation (send without conversation_id) or call "
                           "the hotline.")
                return
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()

    def _closing_on_shutdown(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.limiter.close()
            return message

        return wrapped

    async def _read_body(self, scope: Scope, receive: Receive, limit: int) -> bytes:
        for value in _header_values(scope, b"content-length"):
            if value.strip().isdigit() and int(value) > limit:
                raise _BodyTooLargeError
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _ClientGoneError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _BodyTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _conversation_full(self, scope: Scope, body: bytes) -> bool:
        """A 409, not a 429: waiting does not help, a new conversation does. It keeps
        one conversation's context (and the transcript a ticket copies) bounded."""
        try:
            conversation_id = json.loads(body).get("conversation_id")
        except (ValueError, AttributeError, RecursionError):
            return False  # the app answers malformed bodies itself
        # Only ids the service could have issued reach the database; anything else
        # (a surrogate, a NUL, an overlong id) is the app's to refuse with a 422.
        if not isinstance(conversation_id, str) or not _CONVERSATION_ID.fullmatch(
                conversation_id):
            return False
        database: Database = scope["app"].state.db
        try:
            turns = await run_in_threadpool(_citizen_turns, database, conversation_id)
        except Exception:  # the database's faults are the app's to answer (503), not ours
            log.warning("turn count unavailable; the conversation is not limited this time",
                        exc_info=True)
            return False
        return turns >= self.policy.max_turns


_CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _citizen_turns(database: Database, conversation_id: str) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(ConversationMessage).where(
            ConversationMessage.conversation_id == conversation_id,
            ConversationMessage.role == "citizen")) or 0


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)))


_CLASS_PATTERNS = [(method, _template_pattern(template), name)
                   for (method, template), name in ENDPOINT_CLASSES.items()]
# Fixed paths beside `/appointments/{reference}` that are not look-ups by reference.
_NOT_A_REFERENCE = frozenset({"/api/v1/appointments/services", "/api/v1/appointments/slots",
                              "/api/v1/defect-reports/services"})


def _endpoint_class(scope: Scope) -> str | None:
    path: str = scope["path"]
    method = "GET" if scope["method"] == "HEAD" else scope["method"]
    if path in _NOT_A_REFERENCE:
        return None
    for route_method, pattern, name in _CLASS_PATTERNS:
        if route_method == method and pattern.fullmatch(path):
            return name
    return None


def _count_rejection(scope: Scope, endpoint: str | None, reason: str) -> None:
    metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
    if metrics is not None:
        metrics.count_rejection(endpoint, reason)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body we read, once, then whatever the connection says next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
