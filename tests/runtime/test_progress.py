"""The build's progress, as a person sees it: one plain line per phase where no one
watches a terminal, bars on a terminal, a heartbeat while something starts."""

from __future__ import annotations

import io
import re
import threading

from flows.runtime import progress
from flows.runtime.progress import Display


def test_a_plain_display_says_each_phase_once_with_its_count_and_rate():
    shown = io.StringIO()
    with Display(shown, interactive=False):
        progress.start("parsing", 300, "articles")
        workers = [threading.Thread(target=lambda: [progress.step("parsing", 10) for _ in range(10)])
                   for _ in range(3)]  # steps come from the shard tasks' threads
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        progress.finish("parsing")
        progress.start("publishing", None, "")
        progress.finish("publishing")
    lines = shown.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"parsing: 300 articles in \d+\.\d s( \([\d,.]+/s\))?", lines[0]), lines[0]
    assert re.fullmatch(r"publishing: in \d+\.\d s", lines[1]), lines[1]


def test_nothing_is_shown_without_a_display_and_a_display_leaves_nothing_behind():
    shown = io.StringIO()
    progress.start("parsing", 1, "articles")  # nobody listens: no error, no output
    with Display(shown, interactive=False):
        pass
    progress.finish("parsing")
    assert shown.getvalue() == "" and not any(isinstance(h, Display) for h in progress.LOGGER.handlers)


def test_counted_steps_a_phase_per_result():
    shown = io.StringIO()
    with Display(shown, interactive=False) as display:
        progress.start("parsing", 6, "articles")
        mapped = progress.counted(map, "parsing", units_of=lambda result: result[0])
        assert list(mapped(lambda n: (n, "rows"), [1, 2, 3])) == [(1, "rows"), (2, "rows"), (3, "rows")]
        assert display._phases["parsing"]["done"] == 6
        progress.finish("parsing")
    assert shown.getvalue().startswith("parsing: 6 articles in ")


def test_on_a_terminal_each_phase_has_a_bar():
    shown = io.StringIO()
    with Display(shown, interactive=True):
        progress.start("parsing", 128, "articles")
        progress.step("parsing", 64)
        progress.step("parsing", 64)
        progress.finish("parsing")
    assert "parsing" in shown.getvalue() and "128/128" in shown.getvalue()


def test_a_plain_heartbeat_while_waiting(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.05)
    shown = io.StringIO()
    with Display(shown, interactive=False) as display, display.waiting("Prefect's temporary server"):
        threading.Event().wait(0.3)
    lines = shown.getvalue().splitlines()
    assert lines[0] == "waiting for Prefect's temporary server"
    assert any(line.startswith("still waiting for Prefect's temporary server (") for line in lines[1:-1])
    assert lines[-1].startswith("Prefect's temporary server ready after ")
