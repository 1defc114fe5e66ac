"""Inputs as news collections really come: web pages, JSON Lines and JSON arrays of
article records, WARC archives, any of them gzip-compressed.

The format is read from the content (a name only breaks a tie), so a `.txt` that holds
HTML is read as a page. A file that holds several records gives one source per record,
`path#N` for the N-th (from 1); a record that cannot be read (a broken JSON line, a WARC
response without payload, the end of a truncated archive) is a rejected source, and the
other records of the file still load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
import zlib
from dataclasses import dataclass, field

from flows.stages.normalise.dates import parse_date

GZIP_MAGIC = b"\x1f\x8b"
# Decompressed bytes accepted from one gzip file: beyond this it is a bomb, not news.
MAX_DECOMPRESSED_BYTES = 2 * 1024 ** 3
# Field names of news-please, CC-News and common exports, most specific first; the
# first present, non-empty one is used. `--field NAME=KEY` puts KEY in front.
FIELD_KEYS = {
    "text": ["maintext", "text", "body", "articleBody", "article", "content", "description"],
    "title": ["title", "headline", "title_page", "title_rss"],
    "published_date": ["date_publish", "datePublished", "published", "publish_date", "published_at",
                       "pubdate", "date"],
    "url": ["url", "link", "canonical_url"],
    "outlet": ["source_domain", "outlet", "publisher", "site_name", "source"],
    "authors": ["authors", "author", "byline"],
    "dateline": ["dateline"],
    # What part of the outlet the article belongs to, and its keywords: news-please and
    # schema.org names, and Reuters-21578's topics.
    "section": ["section", "category", "articleSection", "section_name"],
    "tags": ["tags", "keywords", "topics"],
}
RECORD_FIELDS = tuple(FIELD_KEYS)


def field_keys(fields: dict[str, str] | None) -> dict[str, list[str]]:
    """The JSON keys each article field is read from: the user's first, then the usual."""
    return {name: list(dict.fromkeys([*([fields[name]] if fields and name in fields else []), *keys]))
            for name, keys in FIELD_KEYS.items()}
TAG = re.compile(r"<(?:p|br|div|span|a|b|i|em|strong)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class RawRecord:
    """One record of an input before cleaning: text and the metadata the input itself
    gives, or the reason it cannot be an article."""

    source_uri: str
    raw_sha256: str
    text: str | None = None
    reason: str | None = None
    fields: dict = field(default_factory=dict)
    # "text": a plain text whose first line may be its title; "body": the article body
    # of a structured record, whose title (if any) is in `fields`; "html": a web page
    # in `payload`, to extract the article from.
    kind: str = "text"
    payload: bytes | None = None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def gunzip(raw: bytes) -> tuple[bytes, str | None]:
    """The decompressed bytes of a gzip file and, if it is truncated or corrupt, why;
    what could be decompressed before the damage is kept. An archive that would grow
    past MAX_DECOMPRESSED_BYTES (a "zip bomb") gives no bytes, only the reason."""
    out, problem = io.BytesIO(), None
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    data = raw
    try:
        while data:
            out.write(decompressor.decompress(data, MAX_DECOMPRESSED_BYTES - out.tell() + 1))
            if out.tell() > MAX_DECOMPRESSED_BYTES:
                return b"", (f"gzip archive larger than {MAX_DECOMPRESSED_BYTES / 1024 ** 3:g} GB "
                             "when decompressed: not read")
            if decompressor.unconsumed_tail:
                data = decompressor.unconsumed_tail
            elif decompressor.eof and decompressor.unused_data:  # another gzip member follows
                data = decompressor.unused_data
                decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
            else:
                break
        if not decompressor.eof:
            problem = "truncated gzip archive: it ends before its last member does"
    except zlib.error as error:
        problem = f"corrupt gzip archive: {error}"
    return out.getvalue(), problem


def sniff(data: bytes, name: str) -> str:
    """ "warc", "json", "html" or "text", from the first bytes (the name decides only
    between JSON Lines and text that happens to open with a brace)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"WARC/"):
        return "warc"
    if head[:1] in (b"{", b"[") and (name.endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz"))
                                     or _opens_json(head)):
        return "json"
    if re.match(rb"<(!doctype\s+html|html|head|body|meta|article)\b", head, re.IGNORECASE) or (
            name.endswith((".html", ".htm", ".html.gz", ".htm.gz")) and b"<" in head[:200]):
        return "html"
    return "text"


def _opens_json(head: bytes) -> bool:
    return re.match(rb'[\[{]\s*("|\{|\]|\})', head) is not None


def json_records(uri: str, data: bytes, keys: dict[str, list[str]], lines_only: bool) -> list[RawRecord]:
    """The article records of a JSON array, a JSON object or (with `lines_only`, or when
    the whole is no JSON value) JSON Lines."""
    text = data.decode("utf-8-sig", errors="replace")
    stripped = text.strip()
    if not lines_only:
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
            if stripped.startswith("["):
                return [RawRecord(uri, sha256(data), reason="broken JSON array: "
                                  f"{_json_problem(stripped)}")]
        if isinstance(value, list):
            return [_record_of(f"{uri}#{n}", _canonical_bytes(item), item, keys)
                    for n, item in enumerate(value, start=1)]
        if value is not None:
            return [_record_of(uri, data, value, keys)]
    records = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        raw = line.encode("utf-8")
        try:
            item = json.loads(line)
        except ValueError as error:
            records.append(RawRecord(f"{uri}#{n}", sha256(raw), reason=f"broken JSON on line {n}: {error}"))
            continue
        records.append(_record_of(f"{uri}#{n}", raw, item, keys))
    return records


def _json_problem(text: str) -> str:
    try:
        json.loads(text)
    except ValueError as error:
        return str(error)
    return "not a list"


def _canonical_bytes(item) -> bytes:
    return json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _record_of(uri: str, raw: bytes, item, keys: dict[str, list[str]]) -> RawRecord:
    """A JSON object as a record: its fields by the known names."""
    digest = sha256(raw)
    if not isinstance(item, dict):
        return RawRecord(uri, digest, reason=f"a JSON {type(item).__name__}, not an article record (an object)")
    found = {name: _first(item, names) for name, names in keys.items()}
    body = found.pop("text")
    if not isinstance(body, str) or not body.strip():
        present = ", ".join(sorted(item)[:8]) or "none"
        return RawRecord(uri, digest, reason=f"no article text in the record: none of "
                                             f"{', '.join(keys['text'])} among its fields ({present})")
    fields = {
        "title": _plain(found["title"]),
        "published_date": record_date(found["published_date"]),
        "url": _plain(found["url"]),
        "outlet": _plain(found["outlet"]),
        "authors": _authors(found["authors"]),
        "dateline": dateline_place(found["dateline"]),
        "section": section_of(found["section"]),
        "tags": tags_of(found["tags"]),
    }
    return RawRecord(uri, digest, text=markup_to_text(body), fields=fields, kind="body")


def _first(item: dict, names: list[str]):
    for name in names:
        value = item.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def _plain(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = re.sub(r"\s+", " ", html.unescape(value)).strip()
    return value or None


def section_of(value) -> str | None:
    """A section as a record or a page names it: a string, or the first of a list."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return _plain(value)


def tags_of(value) -> list[str]:
    """Keywords as given: a list of strings, or one string separated by commas or
    semicolons; de-duplicated, in order."""
    if isinstance(value, str):
        value = re.split(r"\s*[,;]\s*", value)
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(tag for tag in map(_plain, value) if tag))


def _authors(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"\s*(?:;|\band\b|,(?=\s*[A-Z][a-z]+\s+[A-Z]))\s*", value)
    if not isinstance(value, list):
        return []
    names = []
    for author in value:
        name = _plain(author.get("name") if isinstance(author, dict) else author)
        if name and name not in names:
            names.append(re.sub(r"^by\s+", "", name, flags=re.IGNORECASE))
    return names


def markup_to_text(body: str) -> str:
    """A record's body as plain text: SGML/HTML entities decoded ("&lt;" in
    Reuters-21578), paragraphs of an HTML body kept as paragraphs."""
    if TAG.search(body):
        body = re.sub(r"<br\s*/?>|</p\s*>|</div\s*>", "\n\n", body, flags=re.IGNORECASE)
        body = re.sub(r"<[^>]+>", "", body)
    return html.unescape(body)


def record_date(value) -> dt.date | None:
    """A date as records give it: ISO 8601 ("2017-06-04T10:00:00Z"), Reuters-21578's
    "26-FEB-1987 15:01:01.79", or any date parse_date reads."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    reuters = re.match(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})\b", value)
    if reuters:
        try:
            return dt.datetime.strptime(" ".join(reuters.groups()).title(), "%d %b %Y").date()
        except ValueError:
            return None
    return parse_date(value)


def dateline_place(value) -> str | None:
    """The place of a dateline ("BAHIA BLANCA, Argentina, Feb 26 -" -> "Bahia Blanca")."""
    value = _plain(value)
    if not value:
        return None
    place = re.split(r",|\s[-–—]", value)[0].strip(" -")
    if not place or not place[0].isalpha():
        return None
    return place.title() if place.isupper() else place


def warc_records(uri: str, raw: bytes, damage: str | None = None) -> list[RawRecord]:
    """One record per WARC response: its HTML payload, URL and crawl date. Requests,
    metadata and the like are not inputs; a response that is not a web page, has no
    payload or is cut off is a rejected record. `damage` says why the file's gzip is
    cut short: its last record is then incomplete."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    records, n = [], 0
    stream = io.BytesIO(raw)
    try:
        for record in ArchiveIterator(stream, arc2warc=True):
            n += 1
            if record.rec_type != "response":
                continue
            records.append(_warc_response(f"{uri}#{n}", record))
    except (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError) as error:
        records.append(RawRecord(f"{uri}#{n + 1}", sha256(raw[stream.tell():]),
                                 reason=f"truncated or corrupt WARC record: {error}"))
        return records
    if damage and records and records[-1].source_uri == f"{uri}#{n}":
        last = records.pop()
        records.append(RawRecord(last.source_uri, last.raw_sha256, reason=f"{damage}: this last WARC "
                                                                             "record is cut off"))
    return records


def _warc_response(uri: str, record) -> RawRecord:
    target = record.rec_headers.get_header("WARC-Target-URI")
    crawled = record_date(record.rec_headers.get_header("WARC-Date"))
    try:
        payload = record.content_stream().read()
    except (zlib.error, EOFError, ValueError, OSError) as error:
        return RawRecord(uri, sha256(b""), reason=f"WARC response whose payload cannot be read: {error}")
    digest = sha256(payload)
    if not payload.strip():
        return RawRecord(uri, digest, reason=f"WARC response record without payload ({target})")
    content_type = (record.http_headers.get_header("Content-Type") if record.http_headers else None) or ""
    if content_type and "html" not in content_type.lower():
        return RawRecord(uri, digest, reason=f"not a web page: {content_type.split(';')[0]} ({target})")
    return RawRecord(uri, digest, fields={"url": target, "crawl_date": crawled}, kind="html",
                     payload=payload)
