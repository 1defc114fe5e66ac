"""Progress of a build, for the person waiting for it.

The flow says where it is through the `newscorpus.progress` logger (`start`, `step`,
`finish` a phase), from whichever thread does the work; it neither knows nor cares
who listens. The command line listens with `Display`: on a terminal, a bar per phase
with counts, rate and time left (rich); elsewhere (cron, CI, a Prefect worker's log),
one plain line when a phase ends. A build run by Prefect elsewhere (serve) has no
display: its phases are in the flow run's log.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager

LOGGER = logging.getLogger("newscorpus.progress")
LOGGER.propagate = False  # only a Display shows these: they are not Prefect's log
# While something is waited for without a count (Prefect's server starting), a plain
# display says it is still waiting this often.
HEARTBEAT_SECONDS = 15


def start(phase: str, total: int | None, unit: str) -> None:
    """Phase `phase` begins: `total` `unit`s to do (None: not counted)."""
    LOGGER.info("%s: %s %s", phase, total, unit, extra={"progress": ("start", phase, total, unit)})


def step(phase: str, done: int = 1) -> None:
    """`done` more units of `phase` are done."""
    LOGGER.debug("%s: +%d", phase, done, extra={"progress": ("step", phase, done, None)})


def finish(phase: str) -> None:
    LOGGER.info("%s: done", phase, extra={"progress": ("finish", phase, None, None)})


def counted(map_, phase: str, units_of=lambda result: 1):
    """`map_` (see flows.runtime.executors) that steps `phase` by `units_of(result)` as
    each result arrives."""
    def mapped(function, jobs):
        for result in map_(function, jobs):
            step(phase, units_of(result))
            yield result
    return mapped


class Display(logging.Handler):
    """Shows the progress events while installed (`with Display(...)`)."""

    def __init__(self, stream=None, interactive: bool | None = None):
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._phases: dict[str, dict] = {}
        self._bars = None

    def __enter__(self) -> "Display":
        LOGGER.addHandler(self)
        LOGGER.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc) -> None:
        LOGGER.removeHandler(self)
        LOGGER.setLevel(logging.NOTSET)
        if self._bars is not None:
            self._bars.stop()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "progress", None)
        if event is None:
            return
        kind, phase, amount, unit = event
        if kind == "start":
            self._phases[phase] = {"total": amount, "unit": unit, "done": 0, "started": time.monotonic(),
                                   "bar": self._add_bar(phase, amount, unit)}
        elif phase in self._phases:
            state = self._phases[phase]
            if kind == "step":
                state["done"] += amount
                if state["bar"] is not None:
                    self._bars.update(state["bar"], advance=amount)
            else:
                self._finished(phase, self._phases.pop(phase))

    @contextmanager
    def waiting(self, what: str):
        """A heartbeat while `what` is waited for without a count."""
        began, stop = time.monotonic(), threading.Event()
        if self.interactive:
            from rich.console import Console

            with Console(file=self.stream).status(f"waiting for {what}"):
                yield
            return
        self._print(f"waiting for {what}")

        def beat():
            while not stop.wait(HEARTBEAT_SECONDS):
                self._print(f"still waiting for {what} ({time.monotonic() - began:.0f} s)")

        beater = threading.Thread(target=beat, daemon=True)
        beater.start()
        try:
            yield
        finally:
            stop.set()
            beater.join()
            self._print(f"{what} ready after {time.monotonic() - began:.1f} s")

    def _add_bar(self, phase: str, total: int | None, unit: str):
        if not self.interactive:
            return None
        if self._bars is None:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskProgressColumn,
                                       TextColumn, TimeElapsedColumn, TimeRemainingColumn)

            self._bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("{task.fields[unit]}"), TaskProgressColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(),
                                  console=Console(file=self.stream), redirect_stdout=False, redirect_stderr=False)
            self._bars.start()
        return self._bars.add_task(phase, total=total, unit=unit)

    def _finished(self, phase: str, state: dict) -> None:
        seconds = time.monotonic() - state["started"]
        if state["bar"] is not None:
            finished = state["done"] if state["total"] is not None else 1  # an uncounted phase: done
            self._bars.update(state["bar"], completed=finished, total=finished or 1)
            return
        unit = state["unit"].removesuffix("s") if state["done"] == 1 else state["unit"]
        counted_part = f"{state['done']:,} {unit} " if state["total"] is not None else ""
        rate = f" ({state['done'] / seconds:,.1f}/s)" if state["total"] and seconds >= 1 else ""
        self._print(f"{phase}: {counted_part}in {seconds:.1f} s{rate}")

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)
