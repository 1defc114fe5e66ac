"""The Prefect API a build's flow run reports to.

With no API configured, Prefect starts a temporary server at the flow's first call
and waits for it. Its process takes 7-25 s to boot on a 2-core machine, after the
3 s it takes to import the code that starts it, and the build can do nothing useful
meanwhile. Here the server's process is started before anything is imported, so it
boots on the other core while the build imports the pipeline and loads its model.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path


class ServerDidNotStart(RuntimeError):
    """Prefect's temporary server exited or did not answer in time."""


class TemporaryServer:
    """Prefect's API server (the app Prefect's own temporary server runs: no UI, no
    scheduling services) on a free loopback port, in a process of its own."""

    def __init__(self):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/api"
        prefect_folder = Path(importlib.util.find_spec("prefect").origin).parent
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect_folder.parent), "--factory",
             "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "error", "--lifespan", "on"],
            env=os.environ | {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                              "PREFECT__SERVER_FINAL": "1"})

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    """A loopback port no process listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_api(url: str, server: subprocess.Popen, timeout: float, name: str = "Prefect's server") -> None:
    """Return once the Prefect API at `url`, served by the process `server`, answers;
    raise ServerDidNotStart if that process exits or `timeout` s pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerDidNotStart(f"{name} exited with code {server.returncode} (its error is above)")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise ServerDidNotStart(f"{name} did not answer within {timeout:g} s")


@contextmanager
def reporting_api() -> Iterator[Callable[[], None]]:
    """The API for the flow runs of this process and of its Dask workers (which read
    PREFECT_API_URL): the configured one, else a temporary server, started at once and
    stopped on leaving. Gives a function that returns once the API can take reports.
    A PREFECT_API_URL set only in a Prefect profile is known once Prefect is imported;
    a server started by then is stopped unused."""
    server = None if os.environ.get("PREFECT_API_URL") else TemporaryServer()
    try:
        from prefect.settings import (PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED,
                                      PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, PREFECT_UI_URL,
                                      temporary_settings)

        configured = PREFECT_API_URL.value()
        if server is not None and (configured or not PREFECT_SERVER_EPHEMERAL_ENABLED.value()):
            server.stop()  # with temporary servers disabled and no API, Prefect says what to do
            server = None
        if server is None:
            with environment("PREFECT_API_URL", configured) if configured else nullcontext():
                yield lambda: None
            return
        print(f"Starting Prefect's temporary server on {server.url}", file=sys.stderr)
        # No UI is served: no "View at" link to it.
        with environment("PREFECT_API_URL", server.url), \
                temporary_settings(updates={PREFECT_API_URL: server.url, PREFECT_UI_URL: ""}):
            yield lambda: wait_for_api(server.url, server.process, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(),
                                       "Prefect's temporary server")
    finally:
        if server is not None:
            _send_reports()
            server.stop()


def _send_reports() -> None:
    """Let Prefect's log and event workers send what they hold (they would at exit,
    to a server that is gone by then)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=10)


@contextmanager
def environment(name: str, value: str):
    """The environment variable `name` set to `value` inside the block."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous
