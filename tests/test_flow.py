"""The Prefect flow end to end, on a real temporary Prefect server, and the command."""

from __future__ import annotations

import inspect
import json
import os
import sqlite3
import subprocess
import sys
import urllib.request

import pyarrow.parquet as pq
import pytest

from flows.build import build_flow
from flows.cli import command_line, main
from flows.release.publish import publish_release
from tests.helpers import SEEDS, same_data

pytestmark = pytest.mark.prefect


def test_flow_builds_a_release_from_the_seeds(prefect_server, seed_tables, tmp_path):
    result = build_flow(sources=[str(SEEDS)], output=str(tmp_path), shard_size=2)
    assert result.changed and result.version == "v1.0.0"
    manifest = json.loads((result.path / "manifest.json").read_text())
    counts = manifest["counts"]
    assert (counts["articles"], counts["sources"]) == (5, 5)
    assert counts["mentions"] > 300 and 50 < counts["entities"] < counts["mentions"]
    assert manifest["stages"]["deduplicate"] == {"accepted": 5}
    assert manifest["model"]["name"].startswith("en_core_web_sm") and manifest["model"]["version"] == "3.8.0"
    assert [a["file"] for a in manifest["aliases"]] == ["aliases.tsv"]
    # Without the cache, so built again: shards of another size make the same files, and
    # the shards' results, kept meanwhile in a temporary file in the output folder (not in
    # the machine's temporary folder, which other builds share), leave nothing behind.
    again = build_flow(sources=[str(SEEDS)], output=str(tmp_path / "again"), shard_size=5, cache=False)
    assert again.version == "v1.0.0" and same_data(again.path, result.path)
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == [".lock", "LATEST", "v1.0.0"]
    # Mentions and quotes were linked and written a shard at a time: the same files as
    # the tables built whole, in article order.
    whole = publish_release(seed_tables, tmp_path / "whole", {})
    assert same_data(whole.path, result.path)
    for name in ("mentions", "quotes"):
        rows = pq.read_table(result.path / f"{name}.parquet")
        order = [("article_id", "ascending"), ("start", "ascending"), ("end", "ascending")]
        assert rows.equals(rows.sort_by(order)) and len(set(rows["article_id"].to_pylist())) == 5


def test_command_prints_the_release_then_no_change(prefect_server, tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["build", "--source", str(SEEDS), "--output", str(output)]) == 0
    assert capsys.readouterr().out.strip().endswith("out/v1.0.0")
    assert main(["build", "--source", str(SEEDS), "--output", str(output)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_no_usable_input_is_a_clear_error_and_publishes_nothing(prefect_server, tmp_path, capsys):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "empty.txt").write_bytes(b"")
    (junk / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert main(["build", "--source", str(junk), "--output", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "no usable input: all 2 inputs were rejected (1 empty file, 1 binary file)" in error
    assert "Traceback" not in error
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("v*"))


def test_unknown_model_is_a_clear_error(prefect_server, tmp_path, capsys):
    assert main(["build", "--model", "xx_not_installed", "--output", str(tmp_path)]) == 1
    assert "spaCy model 'xx_not_installed' is not installed" in capsys.readouterr().err


def test_missing_source_is_a_clear_error(prefect_server, tmp_path, capsys):
    assert main(["build", "--source", str(tmp_path / "absent"), "--output", str(tmp_path)]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_the_command_line_defaults_are_the_flows_and_cost_no_pipeline_import():
    defaults = command_line().parse_args(["build"])
    flow_defaults = {name: parameter.default
                     for name, parameter in inspect.signature(build_flow.fn).parameters.items()}
    assert (defaults.output, defaults.shard_size, defaults.model, defaults.cache, defaults.near_duplicates,
            defaults.allow_removals) == (
        flow_defaults["output"], flow_defaults["shard_size"], flow_defaults["model"], flow_defaults["cache"],
        flow_defaults["near_duplicate_threshold"], flow_defaults["allow_removals"])
    # `newscorpus --help` builds the parser: it must not import pandas, Prefect or spaCy.
    imported = subprocess.run([sys.executable, "-c", "import json, sys; from flows.cli import command_line; "
                               "command_line(); print(json.dumps(list(sys.modules)))"],
                              capture_output=True, text=True, check=True).stdout
    assert not {"pandas", "prefect", "spacy"} & set(json.loads(imported))


def build_without_an_api(tmp_path, **settings: str) -> subprocess.CompletedProcess:
    """`newscorpus build` of the seeds into tmp_path/out, with no PREFECT_API_URL and a
    Prefect home of its own (so no profile names an API either)."""
    environment = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    return subprocess.run([sys.executable, "-m", "flows.cli", "build", "--output", str(tmp_path / "out")],
                          env=environment | {"PREFECT_HOME": str(tmp_path / "prefect-home"), **settings},
                          capture_output=True, text=True, timeout=300)


def test_command_without_an_api_reports_to_a_temporary_server_it_stops(tmp_path):
    run = build_without_an_api(tmp_path, PREFECT_LOGGING_LEVEL="INFO")
    home = tmp_path / "prefect-home"
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("out/v1.0.0")
    started = [line for line in run.stderr.splitlines() if line.startswith("Starting Prefect's temporary server")]
    assert len(started) == 1, run.stderr
    # Every report reached the server before it stopped, and it did stop.
    assert "Error logging to API" not in run.stderr and "View at" not in run.stderr
    with sqlite3.connect(home / "prefect.db") as db:
        assert db.execute("SELECT name, state_type FROM flow_run").fetchall()[0][1] == "COMPLETED"
        logged = db.execute("SELECT message FROM log").fetchall()
    assert any("published" in message for message, in logged), logged
    url = started[0].split(" on ")[1]
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/health", timeout=5)
    # Not at a terminal: one plain line per phase, stage counts as text, no line per task.
    lines = run.stderr.splitlines()
    assert "waiting for Prefect's temporary server" in lines
    for phase, unit in (("reading and cleaning", "5 inputs"), ("parsing", "5 articles"),
                        ("canonicalising entities", "2 shard reads"), ("linking and writing", "1 shard")):
        assert sum(line.startswith(f"{phase}: {unit} in ") for line in lines) == 1, run.stderr
    assert sum(line.startswith("publishing: in ") for line in lines) == 1
    assert "Task run" not in run.stderr and "{'" not in run.stderr
    assert any(" - deduplicate: 5 accepted" in line for line in lines), run.stderr


def test_a_temporary_server_that_cannot_start_is_a_clear_error(tmp_path):
    run = build_without_an_api(
        tmp_path, PREFECT_API_DATABASE_CONNECTION_URL="sqlite+aiosqlite:////proc/no-such-folder/prefect.db")
    assert run.returncode == 1
    # The server's own error, then what the command says of it (no traceback of its own).
    assert run.stderr.strip().splitlines()[-1].startswith("newscorpus: Prefect's temporary server exited with code")
    assert not (tmp_path / "out").exists()
