"""The README's loading snippets run as written against a real release."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from test_publish import publish, seed_tables

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_loading_snippets_run_against_a_release(tmp_path):
    publish(*seed_tables(), tmp_path / "output")
    blocks = python_blocks()
    assert len(blocks) == 2
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(printed):
            for block in blocks:
                exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    lines = printed.getvalue().splitlines()
    assert lines[0] == "5 articles from 5 inputs"
    assert lines[1] == "{'accepted': 5}"
    assert lines[2].startswith("[('accepted', 5, ")


def test_quality_figures_are_the_recorded_ones():
    from evaluation.measure import recorded

    quality = recorded()
    mentions, tuning, held_out = quality["mentions"], quality["quotes"], quality["quotes, held-out"]
    expected = {
        "mention spans": mentions["span"],
        "mention spans and labels": mentions["typed"],
        "entity merging, pairwise links": mentions["entity merge"]["pairwise"],
        "entity merging, B³": mentions["entity merge"]["b_cubed"],
        "quotes, 30% coverage (tuning set)": tuning["coverage 30%"]["quotes"],
        "quotes, 30% coverage (held-out set)": held_out["coverage 30%"]["quotes"],
        "quotes, 80% coverage (held-out set)": held_out["coverage 80%"]["quotes"],
    }
    text = README.read_text(encoding="utf-8")
    for what, prf in expected.items():
        row = f"| {what} | {prf['precision']:.3f} | {prf['recall']:.3f} | {prf['f1']:.3f} |"
        assert row in text, row
    speakers = (f"Speaker accuracy over matched quotes: {tuning['coverage 30%']['speaker accuracy']:.3f} "
                f"on the tuning set, {held_out['coverage 30%']['speaker accuracy']:.3f} on the held-out")
    assert speakers in " ".join(text.split())
