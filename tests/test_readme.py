"""The README's loading snippets run as written against a real release."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest

from flows.cli import main
from tests.helpers import PROJECT

README = PROJECT / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def seeds_release(built_release) -> Path:
    """A folder holding output/, a release of the seeds with every table."""
    return built_release.path.parent.parent


def run_in(folder: Path, action) -> list[str]:
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(printed):
            action()
    finally:
        os.chdir(cwd)
    return printed.getvalue().splitlines()


def test_loading_snippets_run_against_a_release(seeds_release):
    blocks = python_blocks()
    assert len(blocks) == 3
    lines = run_in(seeds_release, lambda: [exec(compile(b, "README.md", "exec"), {}) for b in blocks])
    assert lines[0] == "5 articles from 5 inputs"
    assert lines[1] == "{'accepted': 5}"
    kinds = eval(lines[2])
    assert set(kinds) == {"direct", "partial", "indirect"} and sum(kinds.values()) >= 20
    assert lines[3] == "True"  # a speaker's span slices its article's text
    about_iraq = eval(lines[4])
    assert about_iraq[0] == ("Reuters", 4)
    people = eval(lines[5])
    assert len(people) == 3 and people[0][1] >= people[1][1] >= people[2][1] >= 3


def test_sql_command_as_written(seeds_release):
    command = re.search(r"^\.venv/bin/newscorpus (sql .*)$", README.read_text(encoding="utf-8"), re.M)[1]
    lines = run_in(seeds_release, lambda: main(shlex.split(command)))
    table = "\n".join(lines)
    for kind in ("direct", "partial", "indirect"):
        assert re.search(rf"│ {kind} +│ +\d+ │", table), table


def test_quality_figures_are_the_recorded_ones():
    from flows.release.measured import measured_quality as recorded

    quality = recorded()
    mentions, tuning, blind = quality["mentions"], quality["quotes"], quality["quotes, confirmation"]
    expected = {
        "mention spans": mentions["span"],
        "mention spans and labels": mentions["typed"],
        "entity merging, pairwise links": mentions["entity merge"]["pairwise"],
        "entity merging, B³": mentions["entity merge"]["b_cubed"],
        "quotes, 30% coverage (tuning set)": tuning["coverage 30%"]["quotes"],
        "quotes, 30% coverage (blind set)": blind["coverage 30%"]["quotes"],
        "quotes, 80% coverage (blind set)": blind["coverage 80%"]["quotes"],
    }
    text = README.read_text(encoding="utf-8")
    for what, prf in expected.items():
        row = f"| {what} | {prf['precision']:.3f} | {prf['recall']:.3f} | {prf['f1']:.3f} |"
        assert row in text, row
    speakers = (f"Speaker accuracy over matched quotes: {tuning['coverage 30%']['speaker accuracy']:.3f} "
                f"on the tuning set, {blind['coverage 30%']['speaker accuracy']:.3f} on the blind")
    assert speakers in " ".join(text.split())
