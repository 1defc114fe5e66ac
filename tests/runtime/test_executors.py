"""The executors a local build hands its stages: a pool of forked processes shared
between its shard tasks, where calls run in order; they stop when the build leaves
them, on success and on error, even when the parent has a SIGTERM handler of its own
(as Prefect installs). A call aside runs in a process of its own and is stopped if
nobody waits for it."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time

import pytest

from flows.runtime import executors
from flows.runtime.executors import AsideFailed, ForkPool, InProcess, ProcessDied, aside, fork_map


def pid_of_caller(_job=None) -> int:
    return os.getpid()


def square(n: int) -> int:
    return n * n


def test_calls_run_in_the_pool_and_keep_their_order():
    with executors.local_executor(2) as pool:
        assert isinstance(pool, ForkPool)
        assert pool.call(pid_of_caller) != os.getpid()
        assert list(pool.map(square, range(50))) == [n * n for n in range(50)]
    assert multiprocessing.active_children() == []


def test_with_one_process_the_calls_run_here():
    with executors.local_executor(1) as here:
        assert isinstance(here, InProcess)
        assert here.call(pid_of_caller) == os.getpid()
        assert list(here.map(square, [3, 4])) == [9, 16]


def test_a_process_is_replaced_after_its_tasks():
    with ForkPool(2, tasks_per_process=1) as pool:
        pids = list(pool.map(pid_of_caller, range(6)))
    assert len(set(pids)) == 6 and os.getpid() not in pids


def test_forked_processes_inherit_what_the_function_refers_to_and_keep_the_order():
    unpicklable = threading.Lock()  # sent to a worker, this would fail: it is inherited

    def job(n: int) -> tuple[int, int]:
        with unpicklable:
            return os.getpid(), n * n

    results = list(fork_map(job, range(40), 2))
    assert [square for _, square in results] == [n * n for n in range(40)]
    assert os.getpid() not in {pid for pid, _ in results}
    assert multiprocessing.active_children() == []
    assert list(fork_map(job, range(3), 1)) == [(os.getpid(), n * n) for n in range(3)]


def test_forked_processes_stop_when_a_job_fails_or_the_reader_stops():
    def job(n: int) -> int:
        if n == 3:
            raise ValueError("job 3 failed")
        return n

    with pytest.raises(ValueError, match="job 3 failed"):
        list(fork_map(job, range(100), 2))
    assert multiprocessing.active_children() == []
    with contextlib.closing(fork_map(lambda n: n, range(1000), 2)) as results:
        assert next(results) == 0
    assert multiprocessing.active_children() == []


def test_an_error_stops_busy_processes_even_with_a_parent_sigterm_handler():
    """Prefect's SIGTERM handler does not exit; a process that kept it would finish its
    task (here a 60 s sleep), then wait for the next one forever, and so would the build."""
    stopped = threading.Event()

    def build_that_fails():
        with contextlib.suppress(RuntimeError), ForkPool(2) as pool:
            pool.map(time.sleep, [60, 60])
            time.sleep(1)  # both processes are asleep in their task
            raise RuntimeError("a shard failed")
        stopped.set()

    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        builder = threading.Thread(target=build_that_fails, daemon=True)
        builder.start()
        builder.join(timeout=30)
    finally:
        signal.signal(signal.SIGTERM, previous)
        left = multiprocessing.active_children()
        for child in left:  # so that a failure does not hang the test session too
            child.kill()
    assert stopped.is_set() and left == [], "the processes outlived the pool's terminate"


def fail(message: str) -> None:
    raise ValueError(message)


class TwoPartError(Exception):
    """Pickles, but cannot be rebuilt from its args (like some of Great Expectations')."""

    def __init__(self, message: str, detail: str):
        super().__init__(f"{message}: {detail}")


def fail_in_two_parts() -> None:
    raise TwoPartError("metrics failed", "column text")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_call_aside_runs_in_another_process_while_the_caller_goes_on():
    lock = threading.Lock()  # cannot be pickled: the process inherits its arguments
    with aside(lambda held: (os.getpid(), held.locked()), lock) as result:
        pid, locked = result()
    assert pid != os.getpid() and not locked
    with pytest.raises(ValueError, match="no report"), aside(fail, "no report") as result:
        result()
    assert multiprocessing.active_children() == []


def test_a_call_aside_that_cannot_answer_raises_instead_of_hanging():
    # Rebuilt where a library teaches pickle how (tblib, which Dask installs), else described.
    with pytest.raises((TwoPartError, AsideFailed), match="metrics failed: column text"), \
            aside(fail_in_two_parts) as result:
        result()
    with pytest.raises(AsideFailed, match="exit code -9"), aside(die) as result:
        result()
    assert multiprocessing.active_children() == []


def test_leaving_without_waiting_stops_the_call_aside():
    started = time.perf_counter()
    with aside(time.sleep, 60):
        time.sleep(0.5)
    assert time.perf_counter() - started < 10 and multiprocessing.active_children() == []



def kill_a_process_soon(pool: ForkPool) -> threading.Thread:
    def kill():
        time.sleep(1)
        os.kill(pool.pids[0], signal.SIGKILL)  # as the out-of-memory killer does

    killer = threading.Thread(target=kill)
    killer.start()
    return killer


def error_within(seconds: float, function) -> BaseException | None:
    """The error function() raises, run on a thread that must end within `seconds`
    (a test of a hang fails instead of hanging too)."""
    errors = []

    def run():
        try:
            function()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    return errors[0] if errors else None


@pytest.mark.parametrize("wait", [lambda pool: list(pool.map(time.sleep, [2] * 8)),
                                  lambda pool: pool.call(time.sleep, 5)], ids=["map", "call"])
def test_a_killed_process_fails_the_wait_instead_of_hanging_it(wait):
    """The call a killed process was running never answers: the build must fail,
    saying why, and stop its other processes."""
    def build():
        with ForkPool(2) as pool:
            killer = kill_a_process_soon(pool)
            try:
                wait(pool)
            finally:
                killer.join()

    error = error_within(4, build)
    assert isinstance(error, ProcessDied) and "was killed by SIGKILL (out of memory?)" in str(error)
    assert multiprocessing.active_children() == []


def test_a_caller_that_goes_on_after_a_killed_process_does_not_wait_for_its_call():
    def build():
        with ForkPool(2) as pool:
            killer = kill_a_process_soon(pool)
            with pytest.raises(ProcessDied):
                list(pool.map(time.sleep, [2] * 8))
            killer.join()

    assert error_within(10, build) is None and multiprocessing.active_children() == []


def test_calls_still_waiting_when_the_build_stops_its_pool_stop_waiting():
    """An error in one shard's task stops the pool; the other shards' tasks, on other
    threads, must not wait for ever for work that will never come."""
    outcome, pools = [], []
    waiting = threading.Thread(target=lambda: outcome.append(
        error_within(5, lambda: list(pools[0].map(time.sleep, [3] * 6)))))

    def build():
        with ForkPool(2) as pool:
            pools.append(pool)
            waiting.start()
            time.sleep(0.5)
            raise RuntimeError("a shard failed")

    assert isinstance(error_within(10, build), RuntimeError)
    waiting.join()
    assert [str(error) for error in outcome] == [
        "the build's processes were stopped after an error elsewhere in the build"]


def test_forked_processes_read_the_result_cache_through_connections_of_their_own(tmp_path):
    from flows.runtime.cache import ResultCache

    cache = ResultCache(tmp_path / "results.sqlite")
    cache.put_many("nlp", {str(n): n * n for n in range(20)})
    read = list(fork_map(lambda n: (os.getpid(), cache.get_many("nlp", [str(n)])), range(20), 2))
    assert [found for _, found in read] == [{str(n): n * n} for n in range(20)]
    assert os.getpid() not in {pid for pid, _ in read}
    cache.put_many("nlp", {"after": 1})  # the flow's own connection still works
    assert cache.get_many("nlp", ["after", "3"]) == {"after": 1, "3": 9}
    cache.close()


def test_a_process_retires_cleanly_when_the_parents_exit_hooks_fail_in_a_fork():
    """Prefect registers threading exit hooks that raise in a forked process; a pool
    process that did all its work must still exit with 0, not look killed."""
    def fails_in_a_fork(parent=os.getpid()):
        assert os.getpid() == parent, "an exit hook of the parent ran in a fork"

    threading._register_atexit(fails_in_a_fork)  # as prefect._internal.concurrency.services does
    with ForkPool(2, tasks_per_process=2) as pool:
        assert list(pool.map(square, range(12))) == [n * n for n in range(12)]
    assert multiprocessing.active_children() == []
