"""A release folder and the folder of releases: names, versions, LATEST, and the
hidden staging folder a release is written into, one build at a time.

A release is written into a hidden folder beside the others and renamed into place
only when complete, so a crash never leaves half a release, and LATEST is replaced
atomically after that.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

VERSION_FOLDER = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")

FIRST_VERSION = (1, 0, 0)

MANIFEST, CHECKSUMS, LATEST, CARD = "manifest.json", "SHA256SUMS", "LATEST", "README.md"

DATAPACKAGE = "datapackage.json"

FAILED_REPORT = "quality-of-blocked-build"



@dataclass(frozen=True)
class PublishResult:
    version: str
    path: Path
    changed: bool
    change: str  # "first", "major", "minor", "patch" or "none"
    # Rows of the previous release this one no longer has, per table, when it no
    # longer has some of its inputs (published with allow_removals); else empty.
    removals: dict = field(default_factory=dict)


def version_name(version: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*version)


def releases(output: Path) -> list[tuple[int, int, int]]:
    """Complete releases in `output`, oldest first (a folder counts once it has a manifest)."""
    if not output.is_dir():
        return []
    found = [VERSION_FOLDER.match(p.name) for p in output.iterdir() if (p / MANIFEST).is_file()]
    return sorted(tuple(int(g) for g in m.groups()) for m in found if m)


class NoSuchRelease(Exception):
    """The release asked for is not in the folder of releases."""


def release_folder(release: str | None, output: Path) -> Path:
    """A release folder, by path or version; default the newest in `output`."""
    if release and Path(release).is_dir():
        return Path(release)
    pointer = output / LATEST
    if not release and not pointer.is_file():
        raise NoSuchRelease(f"no release in {output} (no {LATEST} file)")
    version = release or pointer.read_text(encoding="utf-8").strip()
    folder = output / version
    if not (folder / MANIFEST).is_file():
        raise NoSuchRelease(f"no release {version} in {output}")
    return folder


def read_manifest(release: Path) -> dict:
    return json.loads((release / MANIFEST).read_text(encoding="utf-8"))


def point_latest(output: Path, version: str) -> None:
    pointer = output / LATEST
    if pointer.is_file() and pointer.read_text(encoding="utf-8").strip() == version:
        return
    temporary = output / f".{LATEST}.{os.getpid()}"
    temporary.write_text(version + "\n", encoding="utf-8")
    os.replace(temporary, pointer)


@contextmanager
def staging(output: Path) -> Iterator[Path]:
    """A hidden folder in `output` to write a release into, removed on leaving (a
    published release has been renamed into place by then, so a crash or a failed check
    never leaves half a release); one build at a time writes into `output`."""
    output.mkdir(parents=True, exist_ok=True)
    with _exclusive(output):
        remove_incomplete(output)
        folder = Path(tempfile.mkdtemp(prefix=".building-", dir=output))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _exclusive(output: Path):
    """One publisher at a time per output folder (scheduled runs may overlap)."""
    with (output / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def remove_incomplete(output: Path) -> None:
    """Clear staging folders a killed process left behind (never a published release)."""
    for leftover in output.glob(".building-*"):
        shutil.rmtree(leftover, ignore_errors=True)
