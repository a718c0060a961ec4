"""Abuse and fault load test: two `chatbot serve` processes on one PostgreSQL and Redis.

    python -m chatbot.benchmarks.abuse_load --index-dir DIR [--seconds 60] [--json FILE]

Loopback only, bounded in time (`--seconds`) and in concurrency (a fixed number of
client workers, each with at most one request in flight). What it does:

1. starts its own temporary PostgreSQL cluster (initdb into a temporary directory, a
   free port; never the machine's own server), runs `chatbot db upgrade` against it;
2. starts two `chatbot serve` processes on it, sharing limits through Redis under a
   key prefix of their own (`CHATBOT_REDIS_URL`, `CHATBOT_REDIS_KEY_PREFIX`), with
   `CHATBOT_TRUSTED_PROXIES=127.0.0.1` so `X-Forwarded-For` simulates distinct clients;
3. drives traffic for `--seconds` against both, alternating: normal chat, search, ticket
   and booking clients (a fresh address per request, so no limit should ever refuse
   them), one abusive client (one address, chat and tickets as fast as answered), and
   in one phase a client sending the 800 KB ticket (200 x 4,000-character transcript
   lines, 413 expected) and a 240 KB one (fits the body limit, exceeds the transcript
   limit, 422 expected);
4. stops PostgreSQL in the middle for `--outage-seconds`, then starts it again;
5. verifies against the database afterwards and prints a table; `--json` writes it all.

Exit status 0 only when every check holds (see `verify`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from chatbot.benchmarks.search_latency import QUERIES, free_port

NORMAL = "normal"
ABUSIVE = "abusive"
BIG_TICKET = "big_ticket"

# Statuses a normal client may get without anything being wrong: answers, created,
# a slot someone else just took (409).
NORMAL_OK = frozenset({200, 201, 409})
# A 503 that ends this long after PostgreSQL is back still belongs to the outage: the
# pool's pre-ping and requests already waiting on the database need a moment.
OUTAGE_GRACE_SECONDS = 5.0

# The latency benchmark's questions: one per language plus phone-style German ones.
CHAT_MESSAGES = QUERIES

# The bundled calendars plus one service with two counters, open around the clock:
# free future slots exist whatever the time, and bookings of the same few slots compete.
BOOKING_SERVICE = "lasttest"
BOOKING_COUNTERS = 2


def calendars_yaml() -> str:
    import yaml

    bundled = Path(__file__).resolve().parents[1] / "escalation" / "calendars.yaml"
    calendars = yaml.safe_load(bundled.read_text(encoding="utf-8"))
    calendars["services"][BOOKING_SERVICE] = {
        "title": {"de": "Lasttest"}, "slot_minutes": 30, "counters": BOOKING_COUNTERS,
        "booking_horizon_days": 30,
        "hours": {day: ["00:00-23:30"]
                  for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    # Holidays and closing days would leave no slot on some dates.
    calendars.pop("holidays", None)
    calendars.pop("closed_dates", None)
    return str(yaml.safe_dump(calendars, allow_unicode=True, sort_keys=False))


PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin")


# --- what one request did ---------------------------------------------------------------------


@dataclass
class Outcome:
    client: str            # NORMAL, ABUSIVE or BIG_TICKET
    kind: str              # chat, search, ticket, booking, slots, ticket_800k, ticket_240k
    server: int            # 0 or 1
    status: str            # "200", "503", ... or "error:ReadTimeout" for no HTTP answer
    started: float         # seconds since the run began
    ended: float
    marker: str | None = None      # the contact name sent with a ticket or booking
    reference: str | None = None   # what a 201 acknowledged

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Timeline:
    """When things happened, in seconds since the run began."""

    duration: float
    big_ticket_phase: tuple[float, float]
    outage: tuple[float, float] | None = None   # stop began .. start finished


@dataclass
class StoredWrites:
    """What the database holds afterwards, for the markers this run sent."""

    ticket_markers: dict[str, str] = field(default_factory=dict)    # marker -> reference
    booking_markers: dict[str, str] = field(default_factory=dict)
    bookings_per_slot: dict[str, int] = field(default_factory=dict)  # live bookings
    slot_capacity: int = BOOKING_COUNTERS


# --- verification (pure: outcomes + timeline + database facts -> report) -----------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _overlaps(outcome: Outcome, window: tuple[float, float]) -> bool:
    return outcome.started <= window[1] and outcome.ended >= window[0]


def _latency(values: Sequence[float]) -> dict[str, Any]:
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return {"n": len(values), "p50_ms": None if p50 is None else round(p50 * 1000, 1),
            "p95_ms": None if p95 is None else round(p95 * 1000, 1)}


def verify(outcomes: Sequence[Outcome], timeline: Timeline, stored: StoredWrites, *,
           chat_limit_per_minute: int, ticket_limit_per_minute: int,
           chat_p95_tolerance: float = 1.5, big_ticket_max_seconds: float = 1.0
           ) -> dict[str, Any]:
    """The report: counts, latencies, and each acceptance check with its evidence."""
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for o in outcomes:
        counts[o.client][o.kind][o.status] += 1

    outage_window = None
    if timeline.outage is not None:
        outage_window = (timeline.outage[0], timeline.outage[1] + OUTAGE_GRACE_SECONDS)
    errors_500 = [o for o in outcomes if o.status.startswith("5") and o.status != "503"]
    all_503 = [o for o in outcomes if o.status == "503"]
    stray_503 = [o for o in all_503 if outage_window is None or not _overlaps(o, outage_window)]
    normal = [o for o in outcomes if o.client == NORMAL]
    # No HTTP answer at all (reset, timeout): the "broken connection".
    broken = [o for o in outcomes if o.status.startswith("error:") and o.client != BIG_TICKET]

    # Chat latency of normal clients, answered (200), away from the outage: while the
    # big tickets are being sent, and the rest of the run.
    chats = [o for o in normal if o.kind == "chat" and o.status == "200"
             and (outage_window is None or not _overlaps(o, outage_window))]
    during = [o.seconds for o in chats if _overlaps(o, timeline.big_ticket_phase)]
    without = [o.seconds for o in chats if not _overlaps(o, timeline.big_ticket_phase)]
    p95_during, p95_without = percentile(during, 0.95), percentile(without, 0.95)
    chat_unaffected = (p95_during is not None and p95_without is not None
                       and p95_during <= chat_p95_tolerance * p95_without)

    big = [o for o in outcomes if o.client == BIG_TICKET]
    big_refused_fast = bool(big) and all(
        o.status in {"413", "422"} and o.seconds <= big_ticket_max_seconds for o in big)

    acknowledged_tickets = {o.marker: o.reference for o in outcomes
                            if o.kind == "ticket" and o.status == "201" and o.marker}
    acknowledged_bookings = {o.marker: o.reference for o in outcomes
                             if o.kind == "booking" and o.status == "201" and o.marker}
    missing_tickets = sorted(ref or m for m, ref in acknowledged_tickets.items()
                             if stored.ticket_markers.get(m) != ref)
    missing_bookings = sorted(ref or m for m, ref in acknowledged_bookings.items()
                              if stored.booking_markers.get(m) != ref)
    # Stored although the client was told otherwise (not 201, not a replay).
    refused_markers = {o.marker for o in outcomes if o.marker and o.status != "201"}
    stored_unacknowledged = sorted(
        m for m in refused_markers
        if m in stored.ticket_markers or m in stored.booking_markers)
    overbooked = {slot: n for slot, n in stored.bookings_per_slot.items()
                  if n > stored.slot_capacity}

    abusive = [o for o in outcomes if o.client == ABUSIVE]
    abusive_429_per_server = Counter(o.server for o in abusive if o.status == "429")
    # A shared budget: both processes together accept at most the limit in any minute,
    # so accepted requests spread over S seconds number at most limit x (S // 60 + 1);
    # two processes counting alone would let twice that through. One second of slack:
    # the span is measured on the client, the windows on the servers.
    abusive_accepted: dict[str, int] = {}
    abusive_accepted_per_server: dict[str, dict[str, int]] = {}
    budget: dict[str, int] = {}
    for kind, limit in (("chat", chat_limit_per_minute), ("ticket", ticket_limit_per_minute)):
        sent = [o for o in abusive if o.kind == kind]
        accepted = [o for o in sent if o.status in {"200", "201"}]
        abusive_accepted[kind] = len(accepted)
        abusive_accepted_per_server[kind] = {
            str(server): n for server, n in sorted(Counter(o.server for o in accepted).items())}
        span = max((o.started for o in accepted), default=0.0) - min(
            (o.started for o in accepted), default=0.0)
        budget[kind] = limit * (int((span + 1.0) // 60) + 1)
    normal_429 = sum(1 for o in normal if o.status == "429")
    normal_served = {kind: sum(1 for o in normal if o.kind == kind and o.status in
                               {"200", "201"})
                     for kind in ("chat", "search", "ticket", "booking")}

    checks = {
        "no_500": not errors_500,
        "503_only_during_outage": not stray_503,
        "no_broken_connections": not broken,
        "big_ticket_refused_fast": big_refused_fast,
        "chat_p95_unaffected_by_big_ticket": chat_unaffected,
        "acknowledged_tickets_stored": not missing_tickets,
        "acknowledged_bookings_stored": not missing_bookings,
        "nothing_stored_unacknowledged": not stored_unacknowledged,
        "no_double_booking": not overbooked,
        "abusive_429_from_both_processes": len(abusive_429_per_server) == 2,
        "abusive_within_shared_budget": all(abusive_accepted[k] <= budget[k]
                                            for k in budget),
        "normal_clients_never_limited": normal_429 == 0,
        "normal_clients_served": all(n > 0 for n in normal_served.values()),
    }

    def stamp(o: Outcome) -> dict[str, Any]:
        return {"client": o.client, "kind": o.kind, "server": o.server, "status": o.status,
                "started": round(o.started, 3), "ended": round(o.ended, 3)}

    return {
        "passed": all(checks.values()),
        "checks": checks,
        "counts": {client: {kind: dict(sorted(c.items())) for kind, c in sorted(kinds.items())}
                   for client, kinds in sorted(counts.items())},
        "timeline": {"duration_s": round(timeline.duration, 3),
                     "big_ticket_phase_s": [round(t, 3) for t in timeline.big_ticket_phase],
                     "outage_s": None if timeline.outage is None
                     else [round(t, 3) for t in timeline.outage],
                     "outage_grace_s": OUTAGE_GRACE_SECONDS},
        "status_503": {"total": len(all_503), "outside_outage": [stamp(o) for o in stray_503],
                       "first_s": round(min(o.started for o in all_503), 3) if all_503
                       else None,
                       "last_s": round(max(o.ended for o in all_503), 3) if all_503
                       else None},
        "status_5xx_other": [stamp(o) for o in errors_500],
        "broken_connections": [stamp(o) for o in broken],
        "normal_chat_latency": {"big_ticket_in_flight": _latency(during),
                                "without_big_ticket": _latency(without),
                                "p95_tolerance": chat_p95_tolerance},
        "big_ticket_latency": _latency([o.seconds for o in big]),
        "writes": {"tickets_acknowledged": len(acknowledged_tickets),
                   "bookings_acknowledged": len(acknowledged_bookings),
                   "tickets_missing": missing_tickets, "bookings_missing": missing_bookings,
                   "stored_unacknowledged": stored_unacknowledged,
                   "slots_booked": len(stored.bookings_per_slot),
                   "max_bookings_per_slot": max(stored.bookings_per_slot.values(), default=0),
                   "slot_capacity": stored.slot_capacity, "overbooked_slots": overbooked},
        "abusive": {"429_per_server": {str(k): v for k, v in sorted(
                        abusive_429_per_server.items())},
                    "accepted": abusive_accepted,
                    "accepted_per_server": abusive_accepted_per_server,
                    "shared_budget": budget},
        "normal": {"429": normal_429, "served": normal_served},
    }


def format_report(report: dict[str, Any]) -> str:
    lines = ["| client | kind | statuses |", "|---|---|---|"]
    for client, kinds in report["counts"].items():
        for kind, statuses in kinds.items():
            text = ", ".join(f"{status}: {n}" for status, n in statuses.items())
            lines.append(f"| {client} | {kind} | {text} |")
    lat = report["normal_chat_latency"]
    lines += ["", "| normal chat (200) | n | p50 ms | p95 ms |", "|---|---|---|---|"]
    for label, key in (("big ticket in flight", "big_ticket_in_flight"),
                       ("without big ticket", "without_big_ticket")):
        row = lat[key]
        lines.append(f"| {label} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} |")
    t = report["timeline"]
    s = report["status_503"]
    w = report["writes"]
    a = report["abusive"]
    lines += [
        "",
        f"outage (PostgreSQL stopped .. started): {t['outage_s']} s; "
        f"503s: {s['total']} between {s['first_s']} and {s['last_s']} s, "
        f"{len(s['outside_outage'])} outside the outage (+{t['outage_grace_s']} s)",
        f"big ticket phase: {t['big_ticket_phase_s']} s; big ticket latency "
        f"p50 {report['big_ticket_latency']['p50_ms']} ms, "
        f"p95 {report['big_ticket_latency']['p95_ms']} ms",
        f"writes: {w['tickets_acknowledged']} tickets and {w['bookings_acknowledged']} "
        f"bookings acknowledged, missing {len(w['tickets_missing'])} / "
        f"{len(w['bookings_missing'])}, stored unacknowledged "
        f"{len(w['stored_unacknowledged'])}; {w['slots_booked']} slots booked, at most "
        f"{w['max_bookings_per_slot']} per slot (capacity {w['slot_capacity']})",
        f"abusive client: 429 per process {a['429_per_server']}, accepted "
        f"{a['accepted']} (per process {a['accepted_per_server']}, shared budget "
        f"{a['shared_budget']}); normal clients: 429 "
        f"{report['normal']['429']}, served {report['normal']['served']}",
        "",
    ]
    lines += [f"{'PASS' if ok else 'FAIL'}  {name}" for name, ok in report["checks"].items()]
    return "\n".join(lines)


# --- a temporary PostgreSQL cluster ------------------------------------------------------------


def _pg_binary(name: str, bin_dir: str | None) -> str:
    for directory in ((bin_dir,) if bin_dir else PG_BIN_DIRS):
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found (pass --pg-bin DIR)")
    return found


class TemporaryPostgres:
    """A throw-away cluster on a free loopback port. initdb refuses to run as root, so
    as root it runs as the `postgres` user."""

    def __init__(self, bin_dir: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="chatbot-abuse-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._initdb = _pg_binary("initdb", bin_dir)
        self._pg_ctl = _pg_binary("pg_ctl", bin_dir)
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)

    def init(self) -> None:
        self._run(self._initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        self._run(self._pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c max_connections=100",
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run(self._pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def remove(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --- two servers -----------------------------------------------------------------------------


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, log: Path,
                      timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}:\n"
                             f"{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server on port {port} not ready after {timeout:.0f} s:\n"
                     f"{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@contextmanager
def running_servers(env: dict[str, str], workdir: Path, count: int = 2,
                    startup_timeout: float = 240) -> Iterator[list[str]]:
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port() for _ in range(count)]
        logs = [workdir / f"server-{port}.log" for port in ports]
        for port, log in zip(ports, logs, strict=True):
            with log.open("wb") as out:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "chatbot.cli", "serve", "--host", "127.0.0.1",
                     "--port", str(port)], env=env, cwd=workdir, stdout=out,
                    stderr=subprocess.STDOUT))
        for process, port, log in zip(processes, ports, logs, strict=True):
            _wait_until_ready(process, port, log, startup_timeout)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            _stop(process)


def _delete_redis_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
    finally:
        client.close()


# --- traffic --------------------------------------------------------------------------------


@dataclass
class TrafficConfig:
    seconds: float = 60.0
    chat_workers: int = 2
    search_workers: int = 1
    ticket_workers: int = 1
    booking_workers: int = 1
    abusive_workers: int = 2
    think_seconds: float = 0.3       # a normal client's pause between requests
    abusive_pause: float = 0.02      # the abusive client barely pauses
    big_ticket_phase: tuple[float, float] = (0.15, 0.40)   # share of the run
    outage_at: float = 0.55                                 # share of the run
    outage_seconds: float = 5.0
    request_timeout: float = 60.0


def big_ticket_body(lines: int, marker: str) -> dict[str, Any]:
    line = ("Ich schreibe wegen meines Antrags und wiederhole mich " * 80)[:4000]
    return {"message": "Bitte um Rückruf wegen meines Antrags", "consent": True,
            "name": marker, "contact": {"email": "big.ticket@example.org"},
            "transcript": [{"role": "citizen", "text": line} for _ in range(lines)]}


class Traffic:
    def __init__(self, servers: list[str], config: TrafficConfig,
                 restart_postgres: Any) -> None:
        self.servers = servers
        self.config = config
        self.restart_postgres = restart_postgres   # (stop, start) callables or None
        self.outcomes: list[Outcome] = []
        self.outage: tuple[float, float] | None = None
        self._t0 = 0.0
        self._addresses = itertools.count(1)
        self._markers = itertools.count(1)
        self._run_id = uuid.uuid4().hex[:8]
        self._slots: list[str] = []

    def now(self) -> float:
        return time.monotonic() - self._t0

    def fresh_address(self) -> str:
        n = next(self._addresses)
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def marker(self, kind: str) -> str:
        return f"Load {self._run_id} {kind} {next(self._markers)}"

    async def send(self, http: httpx.AsyncClient, client: str, kind: str, server: int,
                   method: str, path: str, address: str, body: Any = None,
                   marker: str | None = None) -> httpx.Response | None:
        started = self.now()
        response: httpx.Response | None = None
        try:
            response = await http.request(method, self.servers[server] + path, json=body,
                                          headers={"X-Forwarded-For": address})
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            status = f"error:{type(exc).__name__}"
        reference = None
        if response is not None and response.status_code == 201:
            reference = response.json().get("reference")
        self.outcomes.append(Outcome(client, kind, server, status, started, self.now(),
                                     marker, reference))
        return response

    def running(self) -> bool:
        return self.now() < self.config.seconds

    async def chat_client(self, http: httpx.AsyncClient, worker: int) -> None:
        rng = random.Random(worker)
        for n in itertools.count():
            if not self.running():
                return
            await self.send(http, NORMAL, "chat", (n + worker) % 2, "POST", "/api/v1/chat",
                            self.fresh_address(), {"message": rng.choice(CHAT_MESSAGES)})
            await asyncio.sleep(self.config.think_seconds)

    async def search_client(self, http: httpx.AsyncClient, worker: int) -> None:
        rng = random.Random(100 + worker)
        for n in itertools.count():
            if not self.running():
                return
            await self.send(http, NORMAL, "search", (n + worker) % 2, "POST",
                            "/api/v1/search", self.fresh_address(),
                            {"query": rng.choice(CHAT_MESSAGES), "top_k": 5})
            await asyncio.sleep(self.config.think_seconds)

    async def ticket_client(self, http: httpx.AsyncClient, worker: int) -> None:
        for n in itertools.count():
            if not self.running():
                return
            marker = self.marker("ticket")
            body = {"message": "Bitte rufen Sie mich wegen meiner Ummeldung zurück.",
                    "consent": True, "name": marker,
                    "contact": {"email": f"ticket.{self._run_id}.{worker}.{n}@example.org"}}
            await self.send(http, NORMAL, "ticket", (n + worker) % 2, "POST",
                            "/api/v1/tickets", self.fresh_address(), body, marker)
            await asyncio.sleep(self.config.think_seconds)

    async def booking_client(self, http: httpx.AsyncClient, worker: int) -> None:
        rng = random.Random(200 + worker)
        for n in itertools.count():
            if not self.running():
                return
            server = (n + worker) % 2
            if not self._slots or n % 10 == 0:
                response = await self.send(
                    http, NORMAL, "slots", server, "GET",
                    f"/api/v1/appointments/slots?service={BOOKING_SERVICE}&days=3",
                    self.fresh_address())
                if response is not None and response.status_code == 200:
                    # A few slots well in the future: bookings compete for them.
                    soon = datetime.now(UTC) + timedelta(hours=1)
                    self._slots = [s["start"] for s in response.json()["slots"]
                                   if datetime.fromisoformat(s["start"]) > soon][:6]
                await asyncio.sleep(self.config.think_seconds)
                continue
            marker = self.marker("booking")
            body = {"service": BOOKING_SERVICE, "start": rng.choice(self._slots),
                    "name": marker, "consent": True,
                    "contact": {"email": f"booking.{self._run_id}.{worker}.{n}@example.org"}}
            await self.send(http, NORMAL, "booking", server, "POST", "/api/v1/appointments",
                            self.fresh_address(), body, marker)
            await asyncio.sleep(self.config.think_seconds)

    async def abusive_client(self, http: httpx.AsyncClient, worker: int) -> None:
        address = "10.66.6.6"   # one client, whichever process the balancer picks
        for n in itertools.count():
            if not self.running():
                return
            server = (n + worker) % 2
            if n % 2 == 0:
                await self.send(http, ABUSIVE, "chat", server, "POST", "/api/v1/chat",
                                address, {"message": CHAT_MESSAGES[n % len(CHAT_MESSAGES)]})
            else:
                marker = self.marker("abuse")
                await self.send(http, ABUSIVE, "ticket", server, "POST", "/api/v1/tickets",
                                address, {"message": "Spam", "consent": True, "name": marker,
                                          "contact": {"email": f"spam.{n}.{worker}"
                                                               "@example.org"}}, marker)
            await asyncio.sleep(self.config.abusive_pause)

    async def big_ticket_client(self, http: httpx.AsyncClient) -> None:
        start, end = (share * self.config.seconds for share in self.config.big_ticket_phase)
        await asyncio.sleep(max(0.0, start - self.now()))
        for n in itertools.count():
            if self.now() >= end:
                return
            # Each from a fresh address: the point is the body, not the ticket limit.
            lines, kind = (200, "ticket_800k") if n % 2 == 0 else (60, "ticket_240k")
            marker = self.marker(kind)
            await self.send(http, BIG_TICKET, kind, n % 2, "POST", "/api/v1/tickets",
                            self.fresh_address(), big_ticket_body(lines, marker), marker)
            await asyncio.sleep(0.1)

    async def postgres_outage(self) -> None:
        if self.restart_postgres is None:
            return
        stop, start = self.restart_postgres
        await asyncio.sleep(max(0.0, self.config.outage_at * self.config.seconds - self.now()))
        began = self.now()
        await asyncio.to_thread(stop)
        await asyncio.sleep(self.config.outage_seconds)
        await asyncio.to_thread(start)
        self.outage = (began, self.now())

    async def run(self) -> Timeline:
        c = self.config
        workers = (c.chat_workers + c.search_workers + c.ticket_workers + c.booking_workers
                   + c.abusive_workers + 1)
        limits = httpx.Limits(max_connections=workers + 2, max_keepalive_connections=workers)
        async with httpx.AsyncClient(timeout=c.request_timeout, limits=limits) as http:
            self._t0 = time.monotonic()
            tasks = [self.chat_client(http, i) for i in range(c.chat_workers)]
            tasks += [self.search_client(http, i) for i in range(c.search_workers)]
            tasks += [self.ticket_client(http, i) for i in range(c.ticket_workers)]
            tasks += [self.booking_client(http, i) for i in range(c.booking_workers)]
            tasks += [self.abusive_client(http, i) for i in range(c.abusive_workers)]
            tasks += [self.big_ticket_client(http), self.postgres_outage()]
            await asyncio.gather(*tasks)
        phase = (c.big_ticket_phase[0] * c.seconds, c.big_ticket_phase[1] * c.seconds)
        return Timeline(duration=self.now(), big_ticket_phase=phase, outage=self.outage)


# --- what the database holds -----------------------------------------------------------------


def stored_writes(database_url: str, outcomes: Sequence[Outcome]) -> StoredWrites:
    from sqlalchemy import create_engine, text

    markers = sorted({o.marker for o in outcomes if o.marker})
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tickets = {str(row[0]): str(row[1]) for row in connection.execute(
                text("SELECT contact_name, reference FROM tickets "
                     "WHERE contact_name = ANY(:markers)"), {"markers": markers})}
            bookings = {str(row[0]): str(row[1]) for row in connection.execute(
                text("SELECT name, reference FROM appointments WHERE name = ANY(:markers)"),
                {"markers": markers})}
            per_slot = connection.execute(
                text("SELECT service, slot_start, count(*) FROM appointments "
                     "WHERE cancelled_at IS NULL GROUP BY service, slot_start")).all()
    finally:
        engine.dispose()
    return StoredWrites(ticket_markers=tickets, booking_markers=bookings,
                        bookings_per_slot={f"{service} {start.isoformat()}": int(n)
                                           for service, start, n in per_slot})


# --- the whole run ---------------------------------------------------------------------------


def _first_window_limit(value: str, seconds: int) -> int:
    from chatbot.config import parse_rate_limit

    return min(w.limit for w in parse_rate_limit(value) if w.seconds <= seconds)


def run(index_dir: Path, config: TrafficConfig, *, redis_url: str,
        pg_bin: str | None = None, restart: bool = True,
        log_dir: Path | None = None) -> dict[str, Any]:
    from chatbot.config import Settings

    defaults = Settings()
    chat_limit = _first_window_limit(defaults.rate_limit_chat, 60)
    ticket_limit = _first_window_limit(defaults.rate_limit_tickets, 60)
    checkout = Path(__file__).resolve().parents[2]
    workdir = Path(tempfile.mkdtemp(prefix="chatbot-abuse-run-"))
    prefix = f"abuse-load-{uuid.uuid4().hex[:8]}"
    postgres = TemporaryPostgres(pg_bin)
    try:
        postgres.init()
        postgres.start()
        (workdir / "calendars.yaml").write_text(calendars_yaml(), encoding="utf-8")
        env = {**os.environ,
               "CHATBOT_DATABASE_URL": postgres.url,
               "CHATBOT_INDEX_DIR": str(index_dir.resolve()),
               "CHATBOT_CORPUS_DIR": str(checkout / "knowledge_corpus"),
               "CHATBOT_INDEX_POLL_SECONDS": "0",
               "CHATBOT_CALENDARS_FILE": str(workdir / "calendars.yaml"),
               "CHATBOT_REDIS_URL": redis_url,
               "CHATBOT_REDIS_KEY_PREFIX": prefix,
               "CHATBOT_TRUSTED_PROXIES": "127.0.0.1",
               "CHATBOT_RATE_LIMITS_ENABLED": "true",
               "CHATBOT_AUTO_MIGRATE": "false",
               "PYTHONPATH": str(checkout)}
        for name in ("CHATBOT_RATE_LIMIT_CHAT", "CHATBOT_RATE_LIMIT_TICKETS",
                     "CHATBOT_MAX_BODY_BYTES", "CHATBOT_MAX_TRANSCRIPT_CHARS"):
            env.pop(name, None)   # the defaults are what is being tested
        subprocess.run([sys.executable, "-m", "chatbot.cli", "db", "upgrade"], env=env,
                       cwd=workdir, check=True, timeout=300)
        with running_servers(env, workdir) as servers:
            traffic = Traffic(servers, config,
                              (postgres.stop, postgres.start) if restart else None)
            timeline = asyncio.run(traffic.run())
        stored = stored_writes(postgres.url, traffic.outcomes)
        report = verify(traffic.outcomes, timeline, stored, chat_limit_per_minute=chat_limit,
                        ticket_limit_per_minute=ticket_limit)
        report["config"] = {**asdict(config), "restart_postgres": restart}
        report["outcomes"] = len(traffic.outcomes)
        return report
    finally:
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            for log in workdir.glob("server-*.log"):
                shutil.copy(log, log_dir / log.name)
            if (postgres.root / "server.log").exists():
                shutil.copy(postgres.root / "server.log", log_dir / "postgres.log")
        postgres.remove()
        shutil.rmtree(workdir, ignore_errors=True)
        _delete_redis_keys(redis_url, prefix)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True,
                        help="an already built index directory (CHATBOT_INDEX_DIR)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--chat-workers", type=int, default=2)
    parser.add_argument("--search-workers", type=int, default=1)
    parser.add_argument("--ticket-workers", type=int, default=1)
    parser.add_argument("--booking-workers", type=int, default=1)
    parser.add_argument("--abusive-workers", type=int, default=2)
    parser.add_argument("--think-seconds", type=float, default=0.3)
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--no-restart", action="store_true",
                        help="leave PostgreSQL running (a baseline run)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--pg-bin", help="directory of initdb and pg_ctl")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--log-dir", type=Path, help="keep the servers' logs here")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 600:
        parser.error("--seconds must be in (0, 600]")
    config = TrafficConfig(seconds=args.seconds, chat_workers=args.chat_workers,
                           search_workers=args.search_workers,
                           ticket_workers=args.ticket_workers,
                           booking_workers=args.booking_workers,
                           abusive_workers=args.abusive_workers,
                           think_seconds=args.think_seconds,
                           outage_seconds=args.outage_seconds)
    report = run(args.index_dir, config, redis_url=args.redis_url, pg_bin=args.pg_bin,
                 restart=not args.no_restart, log_dir=args.log_dir)
    report["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                         "generator": f"httpx {httpx.__version__} AsyncClient"}
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
