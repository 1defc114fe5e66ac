"""Ingest, step 3: bytes to clean text, and the rules that reject what is no article.

The encoding is detected (UTF-8 with or without BOM, UTF-16/32, Windows-1252 and other
legacy code pages), mojibake repaired (ftfy), NUL and control characters removed;
binary, undecodable, non-prose and too short inputs are rejected with a reason.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata

import ftfy

from flows.stages.text import count_words

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


class Rejected(Exception):
    """This record is not usable article text; the message is the reason."""



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
