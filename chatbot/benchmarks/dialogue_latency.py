"""One chat turn in process, next to its floor (one search of the message) measured in
the same run over the same messages.

    python -m chatbot.benchmarks.dialogue_latency [--questions FILE] [--split S] [--repeats N]

The messages are phone-typed citizen questions (by default the blind questions of the
train split), each as the first message of a conversation; what a turn adds to the one
search is the policy, the passage and, for a weak match of several clauses, up to
`FOCUS_MAX_CLAUSES` more searches (`chatbot/dialogue/core.py`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from chatbot.benchmarks.search_latency import percentile


def timed(fn: Callable[[str], object], messages: list[str], repeats: int) -> list[float]:
    fn(messages[0])  # warm-up
    out = []
    for _ in range(repeats):
        for message in messages:
            start = time.perf_counter()
            fn(message)
            out.append((time.perf_counter() - start) * 1000)
    return out


def row(name: str, millis: list[float]) -> str:
    return (f"| {name} | {len(millis)} | {sum(millis) / len(millis):.1f} | "
            f"{percentile(millis, 0.5):.1f} | {percentile(millis, 0.95):.1f} | "
            f"{max(millis):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path,
                        default=Path("tests/data/blind_questions.jsonl"))
    parser.add_argument("--split", default="train")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from datetime import UTC, datetime

    from chatbot.config import get_settings
    from chatbot.dialogue.compose import Composer
    from chatbot.dialogue.hotline import Hotline
    from chatbot.dialogue.policy import DECISION_HITS
    from chatbot.dialogue.service import build_dialogue
    from chatbot.evaluation.chat import read_cases
    from chatbot.retrieval.service import SearchService

    settings = get_settings()
    service = SearchService.from_settings(settings)
    if service.index is None:
        sys.exit("no index: run `chatbot ingest` first")
    hotline = Hotline()
    dialogue = build_dialogue(service, Composer(settings.prompts_dir), hotline)
    status = hotline.status(datetime(2026, 10, 10, 9, 0, tzinfo=UTC))
    messages = [case.question for case in read_cases(args.questions, args.split)]
    if not messages:
        sys.exit(f"{args.questions}: no questions in split {args.split!r}")
    languages = {m: service.detect(m) for m in messages}

    def search(message: str) -> object:
        return service.search_hits(message, lang=languages[message].code,
                                   top_k=DECISION_HITS)

    def turn(message: str) -> object:
        return dialogue.respond(message, languages[message], [], status,
                                lambda article_id, lang: f"/articles/{article_id}")

    print(f"{len(messages)} messages from {args.questions.name} (split {args.split}) x "
          f"{args.repeats}; index {service.index.version}; {os.cpu_count()} CPUs")
    print("| measurement | n | mean ms | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|---|")
    print(row("floor: one search of the message", timed(search, messages, args.repeats)))
    print(row("Dialogue.respond (one turn)", timed(turn, messages, args.repeats)))


if __name__ == "__main__":
    main()
