"""Shared fixtures: the seeds, the real corpora (skipped cleanly when absent), a
temporary Prefect server for the flow tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _name, _value in {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
CORPORA = PROJECT.parent / "shared" / "corpora"


def corpus(name: str) -> Path:
    path = CORPORA / name
    if not path.is_dir():
        pytest.skip(f"real corpus {name!r} not found at {path} (../shared/corpora is absent)")
    return path


@pytest.fixture(scope="session")
def bbc() -> Path:
    return corpus("bbc")


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server (and database) for every flow test in the run."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def build_tables(*sources, alias_files=()) -> dict:
    """Every table of a release for `sources`, by the flow's stage functions without Prefect."""
    from flows.pipeline import build_tables as build

    return build(list(sources), alias_files=list(alias_files))


def analysed_tables(articles, alias_files=()) -> dict:
    """mentions, entities and quotes of `articles`."""
    from flows.pipeline import analyse_tables

    return analyse_tables(articles, alias_files=list(alias_files))
