"""Stage 1, ingest: find the input files, read their bytes, decode them to text.

A text file or a web page is one record; a JSON collection or a WARC archive one per
record it holds (see flows.records). A record that cannot be read as article text
becomes a rejected record whose reason says why; nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import glob
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import ftfy

from flows.normalise import count_words
from flows.records import FIELD_KEYS, GZIP_MAGIC, RawRecord, gunzip, json_records, sha256, sniff, warc_records

# Files that travel with a collection but are not articles.
DOCUMENTATION_NAMES = re.compile(r"^(readme|license|licence|copying|changelog|authors)(\.\w+)?$", re.I)

# Signatures of binary formats people drop into folders by mistake.
MAGIC_NUMBERS = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "an executable",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document",
    b"SQLite format 3": "a SQLite database",
    b"PAR1": "a Parquet file",
}
BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
]
# Legacy single-byte encodings tried, most common in news archives first.
LEGACY_ENCODINGS = ["cp1252", "cp1250", "cp1251", "iso8859_15", "mac_roman"]
# Below this share of non-ASCII bytes there is too little signal to tell legacy
# encodings apart, and Windows-1252 is by far the likeliest for news text.
LEGACY_SIGNAL_SHARE = 0.02
MAX_CONTROL_SHARE = 0.01
MIN_WORDS = 20
# More than any news article (the longest of BBC and Reuters-21578 has 4,418 words):
# several articles, a report or a book read as one. spaCy's parser also needs memory in
# proportion to the longest text it is given, and refuses texts of over a million
# characters, so one such input would otherwise stop or swamp the whole build.
MAX_WORDS, MAX_CHARS = 20_000, 200_000
MIN_LETTER_SHARE = 0.5
FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False,  # quotation marks are data here (quotes table)
    fix_character_width=False,
    explain=False,
)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff]")


class InputError(Exception):
    """The sources given cannot be read at all (a user error, not a bad file)."""


class Rejected(Exception):
    """This record is not usable article text; the message is the reason."""


@dataclass(frozen=True)
class InputFile:
    path: Path
    source_uri: str


def discover_inputs(sources: list[str]) -> list[InputFile]:
    """Expand folders (recursively), files and globs into input files, sorted by URI.

    A URI is the path relative to the folder given, prefixed with that folder's name
    (`seeds/000.txt`), so ids do not depend on where the command was run from.
    Hidden files and folders are skipped, as version control does.
    """
    found: dict[str, InputFile] = {}
    for source in sources:
        for path, uri in _expand(source):
            previous = found.get(uri)
            if previous and previous.path.resolve() != path.resolve():
                raise InputError(f"two inputs would both be called {uri!r}: "
                                 f"{previous.path} and {path}; give their parent folders instead")
            found[uri] = InputFile(path, uri)
    return [found[uri] for uri in sorted(found)]


def _expand(source: str) -> list[tuple[Path, str]]:
    if glob.has_magic(source):
        base = Path(*[p for p in _literal_prefix(source)] or ["."])
        files = _visible([Path(m) for m in glob.glob(source, recursive=True)], base)
        if not files:
            raise InputError(f"--source {source}: the pattern matches no files")
    elif (base := Path(source)).is_dir():
        files = _visible(base.rglob("*"), base)
    elif base.is_file():
        return [(base, base.name)]
    else:
        raise InputError(f"--source {source}: no such file or folder")
    # A URI starts with the folder's own name, resolved once per source (the build's 20,000 inputs: 2.6 s).
    prefix = f"{name}/" if (name := base.resolve().name) else ""
    return [(path, prefix + relative.as_posix()) for path, relative in files]


def _visible(paths, base: Path) -> list[tuple[Path, Path]]:
    """(path, path relative to `base`) of the files among `paths` that are not hidden."""
    relative = ((path, path.relative_to(base)) for path in paths if path.is_file())
    return [(path, inside) for path, inside in relative if not _hidden(inside)]


def _literal_prefix(pattern: str) -> list[str]:
    parts = Path(pattern).parts
    prefix = []
    for part in parts:
        if glob.has_magic(part):
            break
        prefix.append(part)
    return prefix


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


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


def decode(raw: bytes) -> str:
    """Bytes to clean Unicode: detect the encoding, repair mojibake, drop control characters."""
    if not raw:
        raise Rejected("empty file")
    text = fix_text(_decode_bytes(raw))
    if not text.strip():
        raise Rejected("blank: the file holds only whitespace")
    return text


def _decode_bytes(raw: bytes) -> str:
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                raise Rejected(f"undecodable: starts with a {encoding} byte-order mark "
                               f"but is not valid {encoding}") from None
    for magic, kind in MAGIC_NUMBERS.items():
        if raw.startswith(magic):
            raise Rejected(f"binary file: {kind}, not text")
    utf16 = _utf16_without_bom(raw)
    if utf16 is not None:
        return utf16
    nuls = raw.count(0)
    if nuls > MAX_CONTROL_SHARE * len(raw):
        raise Rejected(f"binary file: {nuls} of its {len(raw)} bytes are NUL, and it is not UTF-16 text")
    raw = raw.replace(b"\x00", b"")  # a few stray NULs in otherwise good text
    try:
        return _reject_if_control_heavy(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    return _reject_if_control_heavy(_decode_legacy(raw))


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text of mostly Latin script has a NUL in every other byte."""
    if len(raw) < 4 or len(raw) % 2:
        return None
    even_nuls, odd_nuls = raw[0::2].count(0), raw[1::2].count(0)
    half = len(raw) // 2
    for nuls, encoding in ((odd_nuls, "utf-16-le"), (even_nuls, "utf-16-be")):
        if nuls > 0.3 * half and min(even_nuls, odd_nuls) < 0.05 * half:
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _decode_legacy(raw: bytes) -> str:
    non_ascii = sum(byte > 0x7F for byte in raw)
    if non_ascii <= LEGACY_SIGNAL_SHARE * len(raw):
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw, cp_isolation=LEGACY_ENCODINGS).best()
    if best is None:
        raise Rejected("undecodable: not UTF-8 or UTF-16, and no common legacy "
                       f"encoding ({', '.join(LEGACY_ENCODINGS)}) fits its bytes")
    return str(best)


def _reject_if_control_heavy(text: str) -> str:
    controls = len(CONTROL_CHARACTERS.findall(text))
    if controls > MAX_CONTROL_SHARE * len(text):
        raise Rejected(f"binary file: {controls} of {len(text)} characters are control codes")
    return text


def fix_text(text: str) -> str:
    """Repair mojibake (UTF-8 read as Windows-1252 and the like), unify line breaks,
    remove control characters, normalise to NFC."""
    if not _plain_ascii(text):
        text = ftfy.fix_text(text, FTFY_CONFIG)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL_CHARACTERS.sub("", text)
    return unicodedata.normalize("NFC", text)


def _plain_ascii(text: str) -> bool:
    """Whether ftfy would leave the text as it is, up to the line breaks and control
    characters fix_text handles itself: no mojibake, HTML entity or terminal escape is
    possible in it. Most articles are such text, and ftfy costs a third of reading one."""
    return text.isascii() and "&" not in text and "\x1b" not in text


def check_article_text(text: str) -> str:
    """Reject text that is clearly not an article: markup, data, or too short."""
    stripped = text.lstrip()
    if re.match(r"<(!doctype|html|\?xml|rss|feed)\b", stripped, re.I):
        raise Rejected("markup (HTML/XML), not plain article text")
    if stripped[:1] in "{[" and _is_json(stripped):
        raise Rejected("JSON data, not plain article text")
    visible = len(text) - sum(map(str.isspace, text))
    letters = sum(map(str.isalpha, text))
    if visible and letters < MIN_LETTER_SHARE * visible:
        raise Rejected(f"not prose: only {letters * 100 // visible}% of its characters "
                       "are letters (a table, code or data?)")
    require_words(text)
    if not re.search(r"\w[.!?\"”’)]", text):
        raise Rejected("not prose: no sentence ends anywhere in it")
    return text


def require_words(text: str) -> None:
    """Reject a text of fewer words than any article has, counted as articles.word_count
    counts them; every kind of input passes this before it is cleaned."""
    words = count_words(text)
    if words < MIN_WORDS:
        raise Rejected(f"too short to be an article: {words} words (at least {MIN_WORDS} needed)")


def require_article_length(text: str) -> None:
    """Reject a cleaned article text with too little left to be an article, or too long
    to be one news article."""
    words = count_words(text)
    if words < MIN_WORDS:
        raise Rejected(f"nothing left after removing boilerplate: {words} words of article text "
                       f"(at least {MIN_WORDS} needed)")
    if words > MAX_WORDS or len(text) > MAX_CHARS:
        raise Rejected(f"too long to be one news article: {words:,} words and {len(text):,} characters "
                       f"of article text (at most {MAX_WORDS:,} words and {MAX_CHARS:,} characters)")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
