"""How the stages' work is spread over this machine's cores.

The stages take a `map`-like callable (`map(function, jobs)` -> results in order) and
never know what runs it; this module has the callables:

- `ForkPool`: processes forked once per build phase with everything the flow process
  holds (the spaCy model among it: shared, not copied) that serve every call of every
  shard task, first come, first served. One pool for all the shards of a phase, rather
  than one per task, means no core idle while a shard's last batch finishes: the next
  shard's batches are already queued. A killed process fails every call waiting on
  the pool at once, with the reason, instead of leaving them waiting for ever.
- `fork_map`: `map` over processes forked when it starts, which inherit the function
  and all it refers to (a closure over the entity linker and the articles), so only
  the jobs and the results are pickled: the dataset-wide passes after parsing.
- `InProcess`: the same calls in the calling process (one core, a task on a Dask
  worker, tests).
- `aside`: one call in a process of its own while the caller does something else
  (publishing's quality report).
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

try:
    _LIBC = ctypes.CDLL("libc.so.6")  # glibc, for malloc_trim
except OSError:
    _LIBC = None
# How often the pool looks for a process that died: a few wake-ups a second cost nothing.
WATCH_SECONDS = 0.2
# How long the processes have to exit once told to (they are idle by then).
EXIT_SECONDS = 5
STOPPED = "the build's processes were stopped after an error elsewhere in the build"


def local_processes() -> int:
    """The cores this process may use: the processes a local build starts."""
    return len(os.sched_getaffinity(0))


class ProcessDied(Exception):
    """A pool process was killed while calls waited for it (out of memory, or by a
    signal), or the pool was stopped: the calls it had would never answer."""


def local_executor(processes: int, tasks_per_process: int | None = None):
    """A ForkPool of `processes` for every shard task of a phase, or with one process
    the calls in the calling process; either is used in a `with` block."""
    return ForkPool(processes, tasks_per_process) if processes > 1 else InProcess()


class InProcess:
    """The executor of one core: every call runs here, in the caller's thread."""

    def __enter__(self) -> "InProcess":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def call(self, function: Callable, *args):
        return function(*args)

    def map(self, function: Callable, jobs: Iterable) -> Iterator:
        return map(function, jobs)


class ForkPool:
    """`processes` processes forked from this one when the pool starts (`with`), and
    again for each one that retires after `tasks_per_process` calls (in a long-lived
    process spaCy's string store and Python's heap only grow). Calls may come from
    any thread. Leaving the block normally lets the processes finish and exit; leaving
    it on an error stops them at once. `inherit` is the function the processes run for
    jobs sent without one (see fork_map)."""

    def __init__(self, processes: int, tasks_per_process: int | None = None, inherit: Callable | None = None):
        self._size, self._limit, self._inherit = processes, tasks_per_process, inherit
        self._context = multiprocessing.get_context("fork")
        self._processes: list[multiprocessing.Process] = []
        self._pending: dict[int, Future] = {}
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._broken: ProcessDied | None = None
        self._closing = False

    @property
    def pids(self) -> list[int]:
        """The pool's live processes."""
        return [process.pid for process in self._processes if process.exitcode is None]

    def __enter__(self) -> "ForkPool":
        release_free_memory()
        self._tasks, self._results = self._context.Queue(), self._context.Queue()
        for _ in range(self._size):
            self._start_process()
        self._collector = threading.Thread(target=self._collect, name="fork-pool-results", daemon=True)
        self._collector.start()
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None and self._broken is None:
            self._close()
        else:
            self._stop(ProcessDied(STOPPED))
        self._collector.join(EXIT_SECONDS)  # it ends once every process has exited
        for process in list(self._processes):  # unless a kill cut a result short: it waits for the rest
            process.kill()
            process.join()
        self._tasks.cancel_join_thread()  # jobs a stopped pool never ran: nobody will read them
        for channel in (self._tasks, self._results):
            channel.close()
        release_free_memory()  # the processes' results passed through here

    def call(self, function: Callable, *args):
        """function(*args) in one of the pool's processes."""
        return self._submit(function, args).result()

    def map(self, function: Callable, jobs: Iterable) -> Iterator:
        """function(job) for each job, in order; all are submitted now, not as read."""
        futures = [self._submit(function, (job,)) for job in jobs]
        return (future.result() for future in futures)

    def map_inherited(self, jobs: Iterable) -> Iterator:
        """The inherited function for each job, in order; all are submitted now."""
        return self.map(None, jobs)

    def _submit(self, function: Callable | None, args: tuple) -> Future:
        future = Future()
        with self._lock:
            if self._broken is not None:
                raise self._broken
            number = next(self._numbers)
            self._pending[number] = future
        # Pickled here, so that a job that cannot be sent fails its caller, not the queue's thread.
        self._tasks.put(pickle.dumps((number, function, args), protocol=5))
        return future

    def _start_process(self) -> None:
        process = self._context.Process(target=_serve, daemon=True, name="newscorpus-fork",
                                        args=(self._tasks, self._results, self._inherit, self._limit))
        process.start()
        self._processes.append(process)

    def _collect(self) -> None:
        """The results, as they come, into their futures; and the watch on the
        processes. This thread alone starts (after the first), reaps and forgets them."""
        while not self._watch():
            try:
                number, payload = self._results.get(timeout=WATCH_SECONDS)
            except queue.Empty:
                continue
            with self._lock:
                future = self._pending.pop(number, None)
            if future is None:  # a call of a pool already stopped
                continue
            try:
                outcome, value = pickle.loads(payload)
            except Exception as error:
                outcome, value = "error", error
            if outcome == "value":
                future.set_result(value)
            else:
                future.set_exception(value)

    def _watch(self) -> bool:
        """Reap exited processes: replace those that retired, stop the pool if one was
        killed. True once the pool is closing and every process has exited."""
        for process in [p for p in self._processes if p.exitcode is not None]:
            process.join()
            with self._lock:  # not while _stop decides which processes to stop
                self._processes.remove(process)
                if self._closing:
                    continue
                if process.exitcode == 0:
                    self._start_process()
                    continue
            how = (f"was killed by {signal.Signals(-process.exitcode).name} (out of memory?)"
                   if process.exitcode < 0 else f"ended with exit code {process.exitcode}")
            self._stop(ProcessDied(f"process {process.pid} of the build {how} during the build; what "
                                   "finished before is in the cache, so a rerun resumes from there"))
        return self._closing and not self._processes

    def _close(self) -> None:
        """Let the processes finish what is queued, then exit."""
        with self._lock:
            waiting = list(self._pending.values())
        for future in waiting:
            future.exception()
        with self._lock:
            self._closing = True
        for _ in list(self._processes):
            self._tasks.put(None)

    def _stop(self, reason: ProcessDied) -> None:
        """Stop every process now; every call still waiting fails with `reason`."""
        with self._lock:
            if self._broken is None:
                self._broken = reason
            self._closing = True
            waiting, self._pending = list(self._pending.values()), {}
            running = list(self._processes)
        for process in running:
            if process.exitcode is None:
                process.terminate()
        for future in waiting:
            if not future.done():
                future.set_exception(self._broken)


def _serve(tasks, results, inherit: Callable | None, limit: int | None) -> None:
    """A pool process: run jobs until told to stop, or `limit` of them, then exit."""
    _start_process()
    for _ in itertools.count() if limit is None else range(limit):
        job = tasks.get()
        if job is None:
            break
        number, function, args = pickle.loads(job)
        function = function or inherit
        try:
            outcome = ("value", function(*args))
        except Exception as error:
            outcome = ("error", _sendable(error, function))
        try:
            payload = pickle.dumps(outcome, protocol=5)
        except Exception as error:  # a result that cannot be sent must still answer its caller
            payload = pickle.dumps(("error", _sendable(error, function)), protocol=5)
        results.put((number, payload))
    _exit(results)


def _exit(results) -> None:
    """Exit once every result is sent, without the exit hooks inherited from the parent:
    Prefect's fail in a fork (an AssertionError, so exit code 1 for a process that did
    all its work)."""
    results.close()
    results.join_thread()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def fork_map(function: Callable, jobs: Iterable, processes: int) -> Iterator:
    """function(job) for each job, in order, spread over `processes` processes forked
    when the first result is asked for, which inherit `function` and all it refers to:
    only the jobs and results are pickled. With one process, here. Close the iterator
    (contextlib.closing) if it may not be read to the end: that stops the processes."""
    if processes <= 1:
        yield from map(function, jobs)
        return
    with ForkPool(processes, inherit=function) as pool:
        yield from pool.map_inherited(jobs)


class AsideFailed(Exception):
    """A call aside ended without a result it could send back."""


@contextmanager
def aside(function: Callable, *args):
    """Start function(*args) in a process forked now, while the caller goes on. The
    process inherits the arguments (nothing is pickled but the outcome). Yields a
    callable that waits for the result and raises the call's error, or AsideFailed if
    the process died without an answer. Leaving the block without having waited stops
    the process."""
    release_free_memory()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run_aside, args=(sender, function, args), daemon=True)
    process.start()
    sender.close()  # the child holds the only sending end: its death ends the pipe

    def result():
        try:
            outcome, value = receiver.recv()
        except EOFError:
            process.join()
            raise AsideFailed(f"{function.__name__} stopped without an answer "
                              f"(exit code {process.exitcode})") from None
        if outcome == "error":
            raise value
        return value

    try:
        yield result
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        receiver.close()


def _run_aside(sender, function: Callable, args: tuple) -> None:
    _start_process()
    try:
        outcome = ("value", function(*args))
    except Exception as error:
        outcome = ("error", _sendable(error, function))
    sender.send(outcome)


def _sendable(error: Exception, function: Callable) -> Exception:
    """`error`, or an AsideFailed describing it if the parent could not rebuild it."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        name = getattr(function, "__name__", "the call")
        return AsideFailed(f"{name} failed:\n{''.join(traceback.format_exception(error))}")
    return error


def release_free_memory() -> None:
    """Give the memory this process has freed back to the system. Arrow's allocator and
    glibc's keep freed memory for reuse, so after a dataset-wide step (dedupe, the
    parsed rows passing through) the process would carry its peak for the rest of the
    build, and every process forked from it would start from that peak. (No garbage
    collection here: at these points it found 0 to 300 objects in a 20,000-article
    build, and took 0.3 s each time.)"""
    import pyarrow

    pyarrow.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _start_process() -> None:
    # A forked process inherits the parent's signal handlers too: Prefect's for SIGTERM
    # would keep it alive when the pool terminates it, and Ctrl-C is for the parent.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Freeze what the process inherited: its garbage collections then leave those objects
    # alone instead of writing to (and so copying) every page of them.
    gc.freeze()
