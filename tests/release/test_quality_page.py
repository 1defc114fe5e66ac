"""The quality report as a reader opens it: a real browser (Debian's headless
Chromium), on a machine without network, shows every expectation and its result,
with the counts the dataset card states."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags that keep Chromium off the network and out of the way of a test.
QUIET = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def browse(page, tmp_path, *options: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    return subprocess.run([CHROMIUM, *QUIET, f"--user-data-dir={tmp_path / 'profile'}", *options,
                           page.as_uri()], capture_output=True, text=True, timeout=120, check=True)


def test_the_report_shows_every_expectation_and_its_result_offline(built_release, tmp_path):
    release = built_release.path
    results = json.loads((release / "quality" / "results.json").read_text(encoding="utf-8"))
    dom = browse(release / "quality" / "index.html", tmp_path, "--dump-dom").stdout
    rows = re.findall(r"<tr><td class=\"(passed|failed)\">", dom)
    outcomes = [outcome for table in results.values() for outcome in table["results"]]
    assert len(rows) == len(outcomes) >= 20
    for outcome in outcomes:
        expected = outcome["expectation_config"]["meta"]["expected"]
        assert expected.replace("&", "&amp;") in dom, expected
    passed = sum(outcome["success"] for outcome in outcomes)
    assert rows.count("passed") == passed
    card = (release / "README.md").read_text(encoding="utf-8")
    assert f"{passed} of {len(outcomes)} Great Expectations checks passed" in card
    assert f"{len(outcomes)} expectations: {passed} passed" in dom
    for falsehood in ("1970", "Data asset: None", "newsletter"):
        assert falsehood not in dom


def test_the_report_renders_as_a_page(built_release, tmp_path):
    shot = tmp_path / "report.png"
    browse(built_release.path / "quality" / "index.html", tmp_path, f"--screenshot={shot}",
           "--window-size=1280,2000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
