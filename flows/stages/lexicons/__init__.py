"""Word lists the stages share, as data: one word (or phrase) a line in NAME.txt beside
this module; lines that start with '#' say what the list is for."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@cache
def words(name: str) -> frozenset[str]:
    """The entries of lexicons/NAME.txt."""
    lines = (FOLDER / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
