"""Results of the per-article stages, kept between runs so a scheduled run over a
growing feed only cleans and parses what is new.

One SQLite file holds (stage, key) -> pickled value. Keys name everything a result
depends on: the pipeline's code version (and the model, for NLP) and the input's
identity and content, so a changed input, changed code or another model simply misses.
Only the flow process opens the cache; tasks (possibly on Dask workers elsewhere) get
the inputs that missed and return their results, which the flow stores shard by
shard as each finishes, so a run that is stopped or crashes part-way keeps them.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = "CREATE TABLE IF NOT EXISTS results (stage TEXT, key TEXT, value BLOB, PRIMARY KEY (stage, key))"
BATCH = 500  # keys per SQL query: SQLite limits the number of parameters


class ResultCache:
    """The cache file, through a connection per process: a connection opened before a
    fork must not be used after it (SQLite's rule), so a process forked from the flow
    opens its own on first use and leaves the inherited one alone."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connections: dict[int, sqlite3.Connection] = {}
        self._db().execute(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        pid = os.getpid()
        if pid not in self._connections:
            self._connections[pid] = sqlite3.connect(self.path)
        return self._connections[pid]

    def get_many(self, stage: str, keys: Iterable[str]) -> dict[str, object]:
        return {key: pickle.loads(value) for key, value in self._select("key, value", stage, keys)}

    def present(self, stage: str, keys: Iterable[str]) -> set[str]:
        """Which of `keys` have a result, without reading the results."""
        return {key for key, in self._select("key", stage, keys)}

    def _select(self, columns: str, stage: str, keys: Iterable[str]) -> Iterator[tuple]:
        keys = list(dict.fromkeys(keys))
        for i in range(0, len(keys), BATCH):
            batch = keys[i:i + BATCH]
            marks = ",".join("?" * len(batch))
            yield from self._db().execute(f"SELECT {columns} FROM results WHERE stage = ? AND key IN ({marks})",
                                        [stage, *batch])

    def put_many(self, stage: str, items: dict[str, object]) -> None:
        db = self._db()
        with db:  # one transaction: a killed run keeps all of it or none
            db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                                 [(stage, key, pickle.dumps(value, protocol=5)) for key, value in items.items()])

    def close(self) -> None:
        connection = self._connections.pop(os.getpid(), None)
        if connection is not None:
            connection.close()


@contextmanager
def open_cache(path: Path | None, scratch: Path) -> Iterator[ResultCache]:
    """The cache at `path`; with None, an empty one in a temporary file in the folder
    `scratch` (the build's output folder, not the machine's temporary folder that other
    builds share), deleted on leaving: a build without the cache still keeps its shards'
    results on disk, not in the flow process's memory, until every shard is done."""
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".results-", dir=scratch) as folder:
        cache = ResultCache(path or Path(folder) / "results.sqlite")
        try:
            yield cache
        finally:
            cache.close()


def parsed_shard(cache: ResultCache, keys: list[str], articles, start: int, size: int
                 ) -> list[tuple[str, str, dict[str, list[dict]]]]:
    """(article_id, text, each NLP stage's rows) of `size` articles from `start` of
    the `articles` table, whose keys in `cache` are `keys`."""
    part = keys[start:start + size]
    found = cache.get_many("nlp", part)
    shard = articles.iloc[start:start + size]
    return [(article_id, text, found[key]) for article_id, text, key in
            zip(shard["article_id"].tolist(), shard["text"].tolist(), part)]


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
