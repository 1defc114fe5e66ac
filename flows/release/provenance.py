"""How a release was made: what it was built from (inputs, code, model, aliases,
settings, the quality figures its card states), as a fingerprint that says whether a
build would make the newest release again, and as the manifest's provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

import pandas as pd

from flows.release.layout import PublishResult, point_latest, read_manifest, releases, version_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The files whose content decides what the pipeline makes of its inputs: its code and
# its rules as data (lexicons, the curated aliases).
CODE_FILES = ("*.py", "*.txt", "*.tsv")
CODE_PACKAGES = ("flows", "schemas")


def raw_digest(path: Path) -> str | None:
    """sha256 of a file's bytes; None if it cannot be read (it is then prepared, and
    rejected with the reason, every time)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def build_fingerprint(digests: dict[str, str | None], model_id: str, alias_files: list[Path],
                      keys: dict[str, list[str]], near_threshold: float, quality: dict,
                      cited: dict | None = None) -> str:
    """What a release is made from: every input's bytes, the pipeline's code, the model
    (`model_id`: name and version), the alias files, JSON field names and near-duplicate
    threshold, the quality figures and the citation (`cited`) its card states. A build with the fingerprint
    of the newest release would write the same release again."""
    made_of = {"inputs": sorted(digests.items()), "code": code_version(), "model": model_id,
               "aliases": alias_digests(alias_files), "fields": keys, "near duplicates": near_threshold,
               "quality": hashlib.sha256(json.dumps(quality, sort_keys=True).encode()).hexdigest(),
               "citation": cited or {}}
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def release_built_from(output: Path, fingerprint: str) -> PublishResult | None:
    """The newest release in `output`, if it was built with this fingerprint."""
    history = releases(output)
    if not history:
        return None
    version = version_name(history[-1])
    if read_manifest(output / version).get("build_fingerprint") != fingerprint:
        return None
    point_latest(output, version)
    return PublishResult(version, output / version, changed=False, change="none")


def alias_digests(paths: list[Path]) -> list[dict]:
    return [{"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
            for path in paths]


def provenance(tables: dict[str, pd.DataFrame], stats: dict) -> dict:
    """How the release was made: inputs, code and what each stage did. No clock time."""
    sources = tables["sources"]
    snapshot = "".join(f"{uri}\t{digest}\n" for uri, digest in
                       zip(sources["source_uri"], sources["raw_sha256"]))
    return {
        "inputs": len(sources),
        "input_snapshot_sha256": hashlib.sha256(snapshot.encode("utf-8")).hexdigest(),
        "code_version": code_version(),
        "stages": stats,
    }


def code_version() -> dict:
    """The package version and a digest of the pipeline's code and rules."""
    digest = hashlib.sha256()
    files = sorted({path for package in CODE_PACKAGES for pattern in CODE_FILES
                    for path in (PROJECT_ROOT / package).rglob(pattern)})
    for path in files:
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return {"newscorpus": metadata.version("newscorpus"), "source_sha256": digest.hexdigest()}


def citation(articles: pd.DataFrame, author: str | None = None, url: str | None = None) -> dict:
    """What the card's BibTeX entry says beyond the version: the author and URL the
    builder gives (where the release is published), and the year: SOURCE_DATE_EPOCH's
    (the reproducible-builds convention) when set, else that of the newest date in the
    data (publication or crawl), so a rebuild gives the same card."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        year = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).year
    else:
        dates = [d for column in ("published_date", "crawl_date") if column in articles
                 for d in articles[column].dropna().tolist()]
        year = max(dates).year if dates else None
    found = {"author": author, "url": url, "year": year}
    return {name: value for name, value in found.items() if value}
