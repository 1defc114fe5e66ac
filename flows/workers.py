"""Worker processes that one build on one machine shares between all its shard tasks.

The shard tasks of a local build run on threads of the flow process, where Python
code runs on one core at a time. So their work goes to these processes: forked once
per build with the spaCy model loaded (shared with the flow process, not copied),
they serve every shard's work first come, first served. One pool for all the shards
of a stage, rather than one per task, means no core idle while a shard's last batch
finishes: the next shard's batches are already queued.

Outside `local_workers` (a test, a benchmark, a task on a Dask worker) the same calls
run in the calling process. `each_forked` is for the dataset-wide passes after parsing:
workers forked for one pass inherit the function and all it refers to (the entity
linker, the articles), so only the jobs and the results are pickled. `aside` is apart
from all this: one call in a process of its own while the caller does something else
(publishing's quality report).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

_pool: multiprocessing.pool.Pool | None = None
_inherited: Callable | None = None  # each_forked's function, for the workers it forks
try:
    _LIBC = ctypes.CDLL("libc.so.6")  # glibc, for malloc_trim
except OSError:
    _LIBC = None


def local_processes() -> int:
    """The cores this process may use: the number of workers a local build starts."""
    return len(os.sched_getaffinity(0))


@contextmanager
def local_workers(processes: int, tasks_per_worker: int | None = None):
    """Start `processes` forked workers for the calls below; stop them on leaving.
    A worker that has done `tasks_per_worker` calls is replaced by a fresh fork.
    With one process, the calls run in the calling process."""
    global _pool
    if processes <= 1:
        yield
        return
    with _forked_pool(processes, tasks_per_worker) as pool:
        _pool = pool
        try:
            yield
        finally:
            _pool = None


@contextmanager
def _forked_pool(processes: int, tasks_per_worker: int | None = None):
    """A pool of `processes` workers forked from this process as it is when each starts."""
    release_free_memory()
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_start_worker,
                                                    maxtasksperchild=tasks_per_worker)
    pool.lost_work = False  # set by _Watch: a dead worker's call never finishes, so do not wait
    pool.stopped = False  # calls still waiting (other shards' tasks) stop waiting
    try:
        yield pool
    except BaseException:
        pool.stopped = True
        pool.terminate()
        raise
    else:
        if pool.lost_work:
            pool.terminate()
        else:
            pool.close()  # the workers finish and exit on their own
    finally:
        pool.join()
        release_free_memory()  # the workers' results passed through here


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
    _start_worker()
    try:
        outcome = ("value", function(*args))
    except Exception as error:
        try:  # an error the parent could not rebuild would never arrive
            pickle.loads(pickle.dumps(error))
        except Exception:
            error = AsideFailed(f"{function.__name__} failed:\n{''.join(traceback.format_exception(error))}")
        outcome = ("error", error)
    sender.send(outcome)


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


def _start_worker() -> None:
    global _pool
    _pool = None  # a worker forked while the pool runs inherits it: its calls run in it
    # A forked worker inherits the parent's signal handlers too: Prefect's for SIGTERM
    # would keep a worker alive when the pool terminates it, and Ctrl-C is for the parent.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Freeze what the worker inherited: its garbage collections then leave those objects
    # alone instead of writing to (and so copying) every page of them.
    gc.freeze()


def shared() -> bool:
    """Whether a build's workers are running."""
    return _pool is not None


class WorkerDied(Exception):
    """A worker was killed while the build waited for its work (out of memory, or by a
    signal). Its call would never answer: the pool replaces a dead worker silently."""


def call(function: Callable, *args):
    """function(*args) in one of the build's workers, or here without them."""
    if _pool is None:
        return function(*args)
    pending, watch = _pool.apply_async(function, args), _Watch(_pool)
    while not pending.ready():
        watch.check()
        pending.wait(WATCH_SECONDS)
    return pending.get()


def each(function: Callable, jobs: Iterable) -> Iterator:
    """function(job) for each job, in order, spread over the build's workers (or here)."""
    if _pool is None:
        return map(function, jobs)
    return _watched(_pool.imap(function, jobs), _Watch(_pool))  # submitted now, not when first read


def each_forked(function: Callable, jobs: Iterable, processes: int) -> Iterator:
    """function(job) for each job, in order, spread over `processes` workers forked
    when the first result is asked for, which inherit `function` and all it refers to
    (a closure over a large table): only the jobs and results are pickled. With one
    process, here. Close the iterator (contextlib.closing) if it may not be read to
    the end: that stops the workers."""
    global _inherited
    if processes <= 1:
        yield from map(function, jobs)
        return
    _inherited = function
    try:
        with _forked_pool(processes) as pool:
            yield from _watched(pool.imap(_call_inherited, jobs), _Watch(pool))
    finally:
        _inherited = None


def _call_inherited(job):
    return _inherited(job)


def _watched(results: Iterator, watch: "_Watch") -> Iterator:
    while True:
        try:
            yield results.next(WATCH_SECONDS)
        except multiprocessing.TimeoutError:
            watch.check()
        except StopIteration:
            return


# How often a wait for the workers looks for a dead one: a few wake-ups a second cost nothing.
WATCH_SECONDS = 0.2


class _Watch:
    """Raises WorkerDied once a worker of `pool` seen alive has been killed, or the
    pool stopped."""

    def __init__(self, pool: multiprocessing.pool.Pool):
        self._pool = pool
        self._seen = set(pool._pool)

    def check(self) -> None:
        if self._pool.stopped:
            raise WorkerDied("the build's workers were stopped after an error elsewhere in the build")
        self._seen.update(self._pool._pool)  # the pool forgets a dead worker once it replaces it
        for process in self._seen:
            if process.exitcode is not None and process.exitcode < 0:
                self._pool.lost_work = True
                raise WorkerDied(f"worker process {process.pid} was killed by "
                                 f"{signal.Signals(-process.exitcode).name} (out of memory?) during "
                                 "the build; what finished before is in the cache, so a rerun "
                                 "resumes from there")
        self._seen = {process for process in self._seen if process.exitcode is None}
