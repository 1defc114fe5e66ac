"""Ingest, step 2: read each input's bytes into records.

A text file or a web page is one record; a JSON collection or a WARC archive one per
record it holds (see formats). A record that cannot be read as article text becomes a
rejected record whose reason says why; nothing is dropped silently.
"""

from __future__ import annotations

import re

from flows.stages.ingest.decode import Rejected, check_article_text, decode
from flows.stages.ingest.discover import InputFile
from flows.stages.ingest.formats import (FIELD_KEYS, GZIP_MAGIC, RawRecord, gunzip, json_records, sha256, sniff,
                                         warc_records)

# Files that travel with a collection but are not articles.
DOCUMENTATION_NAMES = re.compile(r"^(readme|license|licence|copying|changelog|authors)(\.\w+)?$", re.I)


def read_records(item: InputFile, keys: dict[str, list[str]] = FIELD_KEYS) -> list[RawRecord]:
    """Every record of one input: one for a text file or a web page, one per record of
    a JSON collection or a WARC archive (gzip-compressed or not). `keys` are the field
    names JSON records are read by."""
    raw, refused = _file_bytes(item)
    if refused:
        return [refused]
    name = item.path.name.lower()
    data, damage = gunzip(raw) if raw.startswith(GZIP_MAGIC) else (raw, None)
    if damage and not data:
        return [RawRecord(item.source_uri, sha256(raw), reason=damage)]
    kind = sniff(data, name)
    if kind == "warc":
        return warc_records(item.source_uri, raw, damage)
    if kind == "json":
        records = json_records(item.source_uri, data, keys, lines_only=name.endswith(
            (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")))
        return records + ([RawRecord(f"{item.source_uri}#{len(data.splitlines()) + 1}", sha256(raw),
                                     reason=f"{damage}: the records after this point are lost")]
                          if damage else [])
    if damage:
        return [RawRecord(item.source_uri, sha256(raw), reason=damage)]
    if kind == "html":
        return [RawRecord(item.source_uri, sha256(raw), kind="html", payload=data)]
    return [read_text(item.source_uri, raw, data)]


def read_input(item: InputFile) -> RawRecord:
    """One file read as a plain-text article, whatever it holds; any problem with its
    content rejects it."""
    raw, refused = _file_bytes(item)
    return refused or read_text(item.source_uri, raw, raw)


def _file_bytes(item: InputFile) -> tuple[bytes, RawRecord | None]:
    """The file's bytes, or the rejected record of a file that is unreadable or documentation."""
    try:
        raw = item.path.read_bytes()
    except OSError as error:
        return b"", RawRecord(item.source_uri, sha256(b""), reason=f"unreadable file: {error.strerror or error}")
    if DOCUMENTATION_NAMES.match(item.path.name):
        return raw, RawRecord(item.source_uri, sha256(raw),
                              reason=f"a documentation file ({item.path.name}), not an article")
    return raw, None


def read_text(source_uri: str, raw: bytes, data: bytes) -> RawRecord:
    """A plain-text article from `data` (the bytes of `raw`, decompressed)."""
    try:
        return RawRecord(source_uri, sha256(raw), check_article_text(decode(data)))
    except Rejected as rejection:
        return RawRecord(source_uri, sha256(raw), reason=str(rejection))
