"""Incremental runs: unchanged inputs reuse their cached cleaning and NLP results, and
the output is byte-identical to a full build of the same inputs."""

from __future__ import annotations

import pickle
import shutil
import sqlite3

import pytest

from flows.build import CACHE_FILE, build_flow
from tests.helpers import SEEDS, same_data

pytestmark = pytest.mark.prefect


def test_a_rerun_reuses_what_the_cache_holds(prefect_server, tmp_path):
    feed, output = tmp_path / "feed", tmp_path / "out"
    shutil.copytree(SEEDS, feed)
    first = build_flow(sources=[str(feed)], output=str(output))
    # Empty one article's cached NLP result: a run that reuses the cache shows it.
    with sqlite3.connect(output / CACHE_FILE) as db:
        key, value = db.execute("SELECT key, value FROM results WHERE stage = 'nlp' LIMIT 1").fetchone()
        emptied = {name: [] for name in pickle.loads(value)}
        db.execute("UPDATE results SET value = ? WHERE stage = 'nlp' AND key = ?",
                   (pickle.dumps(emptied), key))
    (feed / "too short.txt").write_text("Not an article.\n", encoding="utf-8")  # a new input
    reused = build_flow(sources=[str(feed)], output=str(output))
    assert reused.changed and reused.version == "v1.1.0"
    assert len(_table(reused.path, "mentions")) < len(_table(first.path, "mentions"))
    # Without the cache every article is parsed again: the first release's NLP data.
    rebuilt = build_flow(sources=[str(feed)], output=str(output), cache=False)
    assert all(_table(rebuilt.path, name).equals(_table(first.path, name))
               for name in ("articles", "mentions", "entities", "quotes"))


def test_a_rerun_with_nothing_new_does_no_work(prefect_server, tmp_path):
    output = tmp_path / "out"
    first = build_flow(sources=[str(SEEDS)], output=str(output))
    (output / CACHE_FILE).unlink()
    again = build_flow(sources=[str(SEEDS)], output=str(output))
    assert (again.changed, again.path) == (False, first.path)
    assert not (output / CACHE_FILE).exists()  # nothing was prepared or parsed


def test_a_changed_input_is_redone_and_the_result_equals_a_full_build(prefect_server, tmp_path):
    feed = tmp_path / "feed"
    shutil.copytree(SEEDS, feed)
    build_flow(sources=[str(feed)], output=str(tmp_path / "incremental"))
    changed = sorted(feed.glob("*.txt"))[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nThe Pentagon declined to comment "
                       "further on the deployment, a spokesman said on Friday.\n", encoding="utf-8")
    shutil.copy(sorted(feed.glob("*.txt"))[0], feed / "copy of the first article.txt")
    incremental = build_flow(sources=[str(feed)], output=str(tmp_path / "incremental"))
    full = build_flow(sources=[str(feed)], output=str(tmp_path / "full"), cache=False)
    assert incremental.version == "v1.1.0" and full.version == "v1.0.0"
    assert same_data(incremental.path, full.path)
    # No change at all: nothing is published.
    assert not build_flow(sources=[str(feed)], output=str(tmp_path / "incremental")).changed


def _table(release, name):
    import pandas as pd

    return pd.read_parquet(release / f"{name}.parquet")


def test_shards_on_a_local_dask_cluster_give_the_same_bytes(prefect_server, tmp_path):
    from flows.build import flow_on
    from flows.runtime.prefect_api import reporting_api

    single = build_flow(sources=[str(SEEDS)], output=str(tmp_path / "single"), shard_size=2, cache=False)
    with reporting_api():
        on_dask = flow_on(workers=2)(sources=[str(SEEDS)], output=str(tmp_path / "dask"),
                                     shard_size=2, cache=False)
    assert same_data(on_dask.path, single.path)


def test_a_run_stopped_part_way_keeps_the_shards_it_finished(prefect_server, bbc, tmp_path):
    """A scheduled run can be cancelled, or its machine go down: the next run parses
    only what the stopped one had not finished."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import pandas as pd
    from prefect.settings import PREFECT_API_URL

    feed, output = tmp_path / "feed", tmp_path / "out"
    feed.mkdir()
    for path in sorted((bbc / "politics").glob("*.txt"))[:240]:
        shutil.copy(path, feed / path.name)
    command = [sys.executable, "-m", "flows.cli", "build", "--source", str(feed), "--output", str(output),
               "--shard-size", "10"]
    run = subprocess.Popen(command, env=os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        while _cached(output, "nlp") == 0 and run.poll() is None:
            time.sleep(0.01)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the build and its workers, as a machine going down would
        run.wait()
    assert run.returncode == -signal.SIGKILL, run.stderr.read().decode()
    kept = _cached(output, "nlp")
    assert 10 <= kept < 240 and not (output / "LATEST").exists()
    assert _cached(output, "prepare") == 240  # preparing had finished
    # Empty one kept result: the next run shows that it used the kept ones.
    with sqlite3.connect(output / CACHE_FILE) as db:
        for key, value in db.execute("SELECT key, value FROM results WHERE stage = 'nlp'"):
            rows = pickle.loads(value)
            if rows["mentions"]:
                db.execute("UPDATE results SET value = ? WHERE stage = 'nlp' AND key = ?",
                           (pickle.dumps({name: [] for name in rows}), key))
                emptied = rows["mentions"][0]["article_id"]
                break
    resumed = build_flow(sources=[str(feed)], output=str(output), shard_size=10)
    assert _cached(output, "nlp") == len(pd.read_parquet(resumed.path / "articles.parquet"))
    mentions = _table(resumed.path, "mentions")
    assert emptied not in set(mentions["article_id"]) and mentions["article_id"].nunique() > 200


def _cached(output, stage: str) -> int:
    """Results of `stage` in the build's cache (0 before it exists)."""
    if not (output / CACHE_FILE).exists():
        return 0
    try:
        with sqlite3.connect(output / CACHE_FILE, timeout=5) as db:
            return db.execute("SELECT count(*) FROM results WHERE stage = ?", (stage,)).fetchone()[0]
    except sqlite3.OperationalError:  # created, but its table not yet
        return 0
