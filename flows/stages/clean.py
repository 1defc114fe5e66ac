"""Stage 2, clean: from decoded text to a title and a body of paragraphs.

Removes web boilerplate (comment prompts, share lines, related-article blocks,
photo captions), keeps a headline once as the title, normalises whitespace while
keeping paragraphs, and sets aside header lines that only carry a date.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from flows.stages.normalise.dates import is_date_line
from flows.stages.normalise.lead import lead_of

PARAGRAPH_SEPARATOR = "\n\n"
TITLE_MAX_WORDS = 25
TITLE_MAX_CHARS = 200
HEADER_PARAGRAPHS = 6  # repeated headlines and date lines are looked for this far down
# Text is hard-wrapped (lines are not paragraphs) when its lines are of newspaper-column
# width and most do not end a sentence.
WRAP_MIN_CHARS, WRAP_MAX_CHARS = 30, 100

SPACES = re.compile(r"[^\S\n]+")
# Reuters-21578 wires end with the agency's name on a line of its own.
SIGN_OFF = re.compile(r"\n\s*(?:Reuter|REUTER)\s*\Z")
INDENTED_LINE = re.compile(r"\n(?:[ ]{3,}|\t)(?=\S)")


def _rule(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Link labels and prompts are short and never end a sentence; requiring that keeps
# real sentences such as "Register offices will open on Sundays." in the body.
_LABEL_END = r"[^.!?]{0,60}(?:[:!»›>]|\.\.\.|…)?"
# Agency credits are matched case-sensitively: "(ePA)" in German text is no credit.
_CREDIT = r"(?-i:\((?:Reuters|REUTERS|AFP|AP|Getty Images|EPA|[Ff]ile|[Pp]hoto)(?: [^)]{0,40})?\))"

# Paragraphs that are boilerplate wherever they appear; the key names the rule in stats.
BOILERPLATE = {
    "comment prompt": _rule(
        r"(\d+\s+)?comments?|post an?( new)? comment|post your comments?|leave an? (comment|reply)"
        r"|add (a|your) comment|(view|show|read|hide) (all )?comments|join the (conversation|discussion)"
        r"|your email address will not be published\b.*|required fields are marked\b.*"),
    "share or subscribe line": _rule(
        r"(share|tweet|email|print|save)( this)?( (article|story|page))?"
        r"( (on|via) (facebook|twitter|x|whatsapp|email|linkedin|reddit))?"
        rf"|(subscribe|sign up|register|follow us|click here|read more|continue reading)\b{_LABEL_END}"
        r"|advertisement|sponsored( content)?"),
    "photo caption": _rule(
        rf".{{0,400}}\W(file (photo|picture|image)|{_CREDIT})\.?"
        r"|(photo|photograph|image|picture|credit)\s*:.{1,100}"),
}
# A comment section: the rest of the page is readers' comments or forms.
COMMENT_SECTION = _rule(
    r"(\d+\s+)?comments?|post an? comment|post your comments?|leave an? (comment|reply)[:.]?")
# A list of other stories: cut only when only link-like lines follow it.
LINK_LIST_HEADING = _rule(
    r"(related (articles?|stories|news|content|posts|coverage|links)|more on this story"
    r"|you (may|might) also (like|be interested in)|recommended( for you)?|most (read|popular)"
    r"|tags?:.*)[:.]?")
LINK_MAX_WORDS = 20
BULLET = re.compile(r"([-–—•*·]|\d{1,2}[.)])\s")


@dataclass
class CleanText:
    title: str | None
    paragraphs: list[str]
    date_lines: list[str] = field(default_factory=list)
    removed: Counter[str] = field(default_factory=Counter)

    @property
    def body(self) -> str:
        return PARAGRAPH_SEPARATOR.join(self.paragraphs)


def clean_text(text: str, title: str | None = None) -> CleanText:
    """Title, paragraphs and date lines of an article's text. With `title` (a record
    that gives its headline apart from its body) the first paragraph is never taken
    for the title, but a repetition of the given one is still removed."""
    removed: Counter[str] = Counter()
    text, signed_off = SIGN_OFF.subn("", text)
    if signed_off:
        removed["agency sign-off"] = signed_off
    paragraphs = split_paragraphs(text)
    paragraphs = _cut_tail_section(paragraphs, removed)
    paragraphs = [p for p in paragraphs if not _is_boilerplate(p, removed)]
    if title is None:
        title, paragraphs = _take_title(paragraphs, removed)
    else:
        paragraphs = _without_headline(title, paragraphs, removed)
    date_lines = [p for p in paragraphs[:HEADER_PARAGRAPHS] if is_date_line(p)]
    paragraphs = [p for i, p in enumerate(paragraphs)
                  if not (i < HEADER_PARAGRAPHS and p in date_lines)]
    return CleanText(title, paragraphs, date_lines, removed)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs with single spaces inside. Blank lines separate paragraphs; so do
    single line breaks, unless the block is hard-wrapped text."""
    text = unicodedata.normalize("NFC", text)
    # Newswires indent the first line of a paragraph instead of leaving a blank line.
    text = INDENTED_LINE.sub("\n\n", text)
    blocks = [[SPACES.sub(" ", line).strip() for line in block.split("\n")]
              for block in re.split(r"\n[^\S\n]*\n", text)]
    blocks = [[line for line in block if line] for block in blocks]
    wrapped = _hard_wrapped(blocks)
    paragraphs: list[str] = []
    for block in blocks:
        if wrapped and not _bulleted(block):
            paragraphs.append(" ".join(block))
        else:
            paragraphs.extend(block)
    return paragraphs


def _hard_wrapped(blocks: list[list[str]]) -> bool:
    """Is the whole text wrapped at a fixed width? Then no line is longer than a
    column, and most lines that continue in the same block do not end a sentence."""
    lines = [line for block in blocks for line in block]
    inner = [line for block in blocks for line in block[:-1]]
    if not inner or max(map(len, lines)) > WRAP_MAX_CHARS:
        return False
    open_ended = sum(len(line) >= WRAP_MIN_CHARS and not re.search(r"[.!?:\"”]$", line)
                     for line in inner)
    return open_ended * 2 > len(inner)


def _bulleted(block: list[str]) -> bool:
    return sum(bool(BULLET.match(line)) for line in block) * 2 >= len(block)


def _cut_tail_section(paragraphs: list[str], removed: Counter[str]) -> list[str]:
    """Drop a trailing comment section, or a trailing list of related links.

    Only in the second half of the text, so an article that merely opens with such a
    word keeps its body."""
    for i in range(len(paragraphs) // 2, len(paragraphs)):
        heading = paragraphs[i]
        if COMMENT_SECTION.fullmatch(heading) or (
                LINK_LIST_HEADING.fullmatch(heading)
                and all(_link_like(p) for p in paragraphs[i + 1:])):
            removed["trailing related/comments section"] += len(paragraphs) - i
            return paragraphs[:i]
    return paragraphs


def _link_like(paragraph: str) -> bool:
    if any(pattern.fullmatch(paragraph) for pattern in BOILERPLATE.values()):
        return True
    return len(paragraph.split()) <= LINK_MAX_WORDS and not paragraph.endswith(".")


def _is_boilerplate(paragraph: str, removed: Counter[str]) -> bool:
    for name, pattern in BOILERPLATE.items():
        if pattern.fullmatch(paragraph):
            removed[name] += 1
            return True
    return False


def _take_title(paragraphs: list[str], removed: Counter[str]) -> tuple[str | None, list[str]]:
    if len(paragraphs) < 2 or not looks_like_title(paragraphs[0]):
        return None, paragraphs
    return paragraphs[0], _without_headline(paragraphs[0], paragraphs[1:], removed)


def _without_headline(title: str, paragraphs: list[str], removed: Counter[str]) -> list[str]:
    """The paragraphs without repetitions of the headline in the header."""
    key = _comparable(title)
    header = [p for p in paragraphs[:HEADER_PARAGRAPHS] if _comparable(p) != key]
    if repeats := len(paragraphs[:HEADER_PARAGRAPHS]) - len(header):
        removed["repeated headline"] += repeats
    return header + paragraphs[HEADER_PARAGRAPHS:]


def looks_like_title(paragraph: str) -> bool:
    """A headline is short, one sentence at most, and does not end like a statement:
    no final full stop (an abbreviation such as "U.S." or an ellipsis may end it)."""
    words = paragraph.split()
    if not words or len(words) > TITLE_MAX_WORDS or len(paragraph) > TITLE_MAX_CHARS:
        return False
    if re.search(r"[,;:]$|[.!?]\s+[A-Z]", paragraph) or is_date_line(paragraph):
        return False
    if lead_of(paragraph) != (None, None):
        return False  # "HAYWARD, Calif. (AP) — The Latest..." opens a body
    return (not paragraph.endswith(".") or paragraph.endswith(("...", "…"))
            or bool(re.search(r"\b[A-Z]\.$", paragraph)))


def _comparable(paragraph: str) -> str:
    return re.sub(r"[\W_]+", " ", paragraph.casefold()).strip()
