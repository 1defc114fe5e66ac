"""Where a build's shard tasks run: threads of the flow process (the default), or the
processes of a Dask cluster, local or remote (prefect-dask)."""

from __future__ import annotations

from flows.runtime.executors import local_processes


def dask_task_runner(workers: int | None = None, address: str | None = None):
    """A task runner for an existing Dask cluster (`address`, e.g.
    tcp://scheduler:8786) or a local one of `workers` processes; None for neither."""
    if not workers and not address:
        return None
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None})


def processes_per_task() -> int:
    """The processes the current flow run's shard work may fork on this machine: the
    cores, when its tasks run on threads of the flow process; one (the task's own
    process) when they run on a cluster's workers, each with a core of its own."""
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    context = FlowRunContext.get()
    on_threads = context is None or isinstance(context.task_runner, ThreadPoolTaskRunner)
    return local_processes() if on_threads else 1
