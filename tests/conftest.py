"""Shared fixtures: the seeds (built once a session), the real corpora (skipped cleanly
when absent), a temporary Prefect server for the flow tests; and the `prefect` and
`corpora` marks, set on each test from what it uses, so that `make test-fast` can
leave out what needs a Prefect server or ../shared/corpora."""

from __future__ import annotations

import inspect
import os
import subprocess
import types
from pathlib import Path

import pandas as pd
import pytest

from flows.release.layout import PublishResult
from flows.release.publish import publish_release
from flows.stages.clean import clean_text
from flows.stages.ingest.discover import discover_inputs
from flows.stages.ingest.read import read_input
from flows.stages.normalise.fields import article_fields
from tests.helpers import CORPORA, SEEDS, build_tables, copy_tables, corpus, prepared_tables, publish

for _name, _value in {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def bbc() -> Path:
    return corpus("bbc")


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server (and database) for every flow test in the run."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def built_seeds() -> dict[str, pd.DataFrame]:
    """Every table of the seeds, built once: the spaCy parse is most of a build's time.
    Read only; a test that may change the tables takes seed_tables."""
    return build_tables(SEEDS)


@pytest.fixture
def seed_tables(built_seeds) -> dict[str, pd.DataFrame]:
    """The seeds' tables, a copy of their own for each test."""
    return copy_tables(built_seeds)


@pytest.fixture(scope="session")
def prepared_release(tmp_path_factory) -> PublishResult:
    """v1.0.0 of the seeds' articles and sources, alone in its output folder: published
    once (each publish runs the quality report), read only."""
    return publish(*prepared_tables(), tmp_path_factory.mktemp("prepared"))


@pytest.fixture(scope="session")
def built_release(built_seeds, tmp_path_factory) -> PublishResult:
    """v1.0.0 of every table of the seeds, in output/ of a folder of its own: read only."""
    return publish_release(copy_tables(built_seeds), tmp_path_factory.mktemp("built") / "output", {})


@pytest.fixture(scope="session")
def cleaned_seeds() -> dict:
    """Each seed cleaned, with its article fields, by the number its file name starts with."""
    result = {}
    for item in discover_inputs([str(SEEDS)]):
        clean = clean_text(read_input(item).text)
        result[item.path.name[:3]] = (clean, article_fields(clean))
    return result


# The command line, in a subprocess, building or serving: a Prefect server (temporary
# or its own) takes part.
COMMAND_NAMES = {"flows.cli", "newscorpus"}
SERVER_COMMANDS = {"build", "serve"}


def pytest_collection_modifyitems(items):
    """`prefect`: the test uses the prefect_server fixture, or runs the command line's
    build or serve in a subprocess. `corpora`: a fixture or helper it uses reads
    ../shared/corpora. Seen in the test's code and in the code of the fixtures and
    test helpers it reaches, so a new test is marked without remembering to."""
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        fixtures = [definition.func for name in item.fixturenames
                    for definition in item._fixtureinfo.name2fixturedefs.get(name, ())]
        values, constants = _referenced([item.function, *fixtures])
        runs_a_command = any(value is subprocess for value in values)
        if "prefect_server" in item.fixturenames or (
                runs_a_command and constants & COMMAND_NAMES and constants & SERVER_COMMANDS):
            item.add_marker(pytest.mark.prefect)
        if any(value is corpus or isinstance(value, Path) and value == CORPORA for value in values):
            item.add_marker(pytest.mark.corpora)


def _referenced(functions) -> tuple[list, set]:
    """The global values and the string constants of `functions` and of every function
    of the tests they reach (unwrapped from caches and other decorators)."""
    values, constants, seen = [], set(), set()
    todo = list(functions)
    while todo:
        function = inspect.unwrap(todo.pop())
        if (not isinstance(function, types.FunctionType) or function in seen
                or not function.__module__.startswith("tests")):
            continue
        seen.add(function)
        for code in _code_objects(function.__code__):
            constants |= {c for c in code.co_consts if isinstance(c, str)}
            for name in code.co_names:
                if name in function.__globals__:
                    value = function.__globals__[name]
                    values.append(value)
                    if callable(value):
                        todo.append(value)
    return values, constants


def _code_objects(code: types.CodeType):
    """`code` and the code of the functions, lambdas and comprehensions inside it."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)
