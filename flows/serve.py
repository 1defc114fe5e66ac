"""`newscorpus serve`: the build flow as a Prefect deployment that runs on a cron schedule.

The deployment, its schedule and the history of its runs live on a Prefect server that
outlives this process (PREFECT_API_URL). A temporary server, as `newscorpus build`
starts, would take all of them with it when serving stops, so serving without one is
refused. This process polls the server for due runs and starts each in a subprocess,
which is why paths in the parameters are made absolute before they are registered.
"""

from __future__ import annotations

from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_API_URL
from pydantic import ValidationError

from flows.build import build_flow

START_SERVER = "start one with `prefect server start` (in another terminal, or as a service)"


class CannotServe(Exception):
    """No Prefect server to serve against, or a schedule that is not a cron expression."""


def serve(cron: str, name: str, parameters: dict) -> None:
    """Register the deployment `newscorpus-build/<name>` with `parameters` as its
    defaults, then run it on `cron` (UTC) until interrupted; stopping pauses the schedule."""
    schedule = cron_schedule(cron)
    require_server()
    # One build at a time: a second would compete for the same cores and output folder.
    build_flow.serve(name=name, schedule=schedule, parameters=parameters, tags=["newscorpus"],
                     limit=1)


def deployment_parameters(sources: list[str] | None, output: str, shard_size: int, model: str,
                          aliases: list[str] | None, cache: bool = True,
                          fields: list[tuple[str, str]] | None = None,
                          near_duplicates: float | None = None, allow_removals: bool = False,
                          cite_author: str | None = None, cite_url: str | None = None) -> dict:
    """The build flow's parameters with every path absolute; options not given are left
    out, so the flow's own defaults apply (the embedded seeds, no extra aliases)."""
    parameters = {"output": absolute(output), "shard_size": shard_size, "model": model, "cache": cache}
    if sources:
        parameters["sources"] = [absolute(source) for source in sources]
    if aliases:
        parameters["aliases"] = [absolute(alias) for alias in aliases]
    if fields:
        parameters["fields"] = dict(fields)
    if near_duplicates is not None:
        parameters["near_duplicate_threshold"] = near_duplicates
    if allow_removals:
        parameters["allow_removals"] = True
    parameters |= {name: value for name, value in (("cite_author", cite_author), ("cite_url", cite_url)) if value}
    return parameters


def absolute(path: str) -> str:
    """`path` from the current folder, kept literal otherwise: a glob stays a glob, and a
    folder keeps its name, which the inputs' URIs start with."""
    return str(Path(path).expanduser().absolute())


def require_server() -> None:
    url = PREFECT_API_URL.value()
    if not url:
        raise CannotServe("PREFECT_API_URL is not set: serving needs a Prefect server that "
                          f"outlives this command; {START_SERVER}, then "
                          "export PREFECT_API_URL=http://127.0.0.1:4200/api")
    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error:
        raise CannotServe(f"no Prefect server answers at PREFECT_API_URL={url} ({error}); "
                          f"{START_SERVER}, or point PREFECT_API_URL at a running one")


def cron_schedule(expression: str) -> CronSchedule:
    try:
        return CronSchedule(cron=expression, timezone="UTC")
    except ValidationError:
        raise CannotServe(f"--cron {expression!r} is not a cron expression "
                          "(minute hour day-of-month month day-of-week, e.g. "
                          "'0 6 * * *': daily at 06:00 UTC)") from None
