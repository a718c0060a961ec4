from __future__ import annotations

from chatbot.benchmarks.dialogue_latency import row, timed


def test_every_message_is_timed_each_repeat_after_a_warm_up() -> None:
    seen: list[str] = []
    millis = timed(seen.append, ["a", "b", "c"], repeats=2)
    assert seen == ["a", "a", "b", "c", "a", "b", "c"]
    assert len(millis) == 6
    assert all(m >= 0 for m in millis)


def test_the_row_reports_count_mean_percentiles_and_max() -> None:
    assert row("turn", [1.0, 2.0, 3.0, 10.0]) == "| turn | 4 | 4.0 | 3.0 | 10.0 | 10.0 |"
