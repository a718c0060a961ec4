"""The benchmark suite (`make bench`) on tiny sizes, so it is not dead code: the
synthetic scale part end to end (a flat and an IVF index), and the HTTP load
generator against a real socket server that answers some requests with errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from chatbot.benchmarks.suite import http_load, main


def test_quick_scale_run_writes_tables_and_json(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bench.json"
    report = main(["--quick", "--parts", "scale", "--sizes", "700,2100", "--queries", "4",
                   "--ann-min-chunks", "2000", "--json", str(out),
                   "--work-dir", str(tmp_path / "work")])
    printed = capsys.readouterr().out
    assert "Synthetic scale" in printed
    data = json.loads(out.read_text())
    assert [row["vector_index"] for row in data["scale"]] == ["flat", "ivf"]
    for row in report.scale:
        assert row["shipped"]["n"] == 4
        assert row["shipped"]["p50_ms"] > 0
        assert row["exhaustive"]["p50_ms"] > 0
        assert 0.0 <= row["recall_at_10"] <= 1.0
    assert data["scale_ratio"]["chunks"] > 2
    assert not list((tmp_path / "work").glob("scale-*"))  # synthetic indexes removed


def test_the_load_generator_counts_latencies_errors_and_timeouts() -> None:
    served: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            body = await reader.readexactly(length)
            served.append(len(body))
            number = len(served)
            if number % 10 == 0:
                await asyncio.sleep(1.0)  # beyond the client's timeout
            status = b"503 Service Unavailable" if number % 4 == 0 else b"200 OK"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    async def run() -> dict[str, object]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await http_load(port, "/api/v1/search", [b'{"query": "x"}'], 4, 40, 0.5)

    row = asyncio.run(run())
    assert row["requests"] == 40
    statuses = row["statuses"]
    assert isinstance(statuses, dict)
    assert statuses.get("timeout", 0) >= 1
    assert statuses.get("503", 0) >= 1
    assert sum(statuses.values()) == 40
    assert row["errors"] == 40 - statuses.get("200", 0)
    assert row["throughput_rps"] > 0
