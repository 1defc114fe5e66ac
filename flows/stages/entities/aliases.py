"""Curated aliases: well-known names of one thing ("US", "U.S.", "United States"),
from flows/stages/entities/aliases.tsv and the files users add with --aliases."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from flows.stages.ingest.discover import InputError
from schemas.tables import NAMED_LABELS

CURATED_ALIASES = Path(__file__).with_name("aliases.tsv")

@dataclass(frozen=True)
class Alias:
    name: str
    label: str
    alias: str


class AliasFileError(InputError):
    """An alias file cannot be read or is not in the documented format."""


def load_aliases(paths: list[Path] | None = None) -> list[Alias]:
    """The curated alias file, then any files users add, in the same TSV format."""
    aliases = []
    for path in [CURATED_ALIASES, *(paths or [])]:
        try:
            content = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise AliasFileError(f"alias file {path}: {error}") from error
        lines = [line for line in content.splitlines() if line.strip() and not line.startswith("#")]
        for number, row in enumerate(csv.reader(lines, delimiter="\t"), start=1):
            if len(row) != 3 or row[1].strip() not in NAMED_LABELS:
                raise AliasFileError(
                    f"alias file {path}, entry {number}: expected name, label and alias separated "
                    f"by tabs, the label one of {', '.join(sorted(NAMED_LABELS))}; got {row!r}")
            aliases.append(Alias(*(field.strip() for field in row)))
    return aliases
