"""Quotation marks: the quoted spans of a text, and what each is (a direct quote, a
partial quote inside reported speech, or no quote: a title, a nickname, a scare quote).

Quotation marks are read over the whole text, not sentence by sentence, so a quote
may run over several sentences, and over paragraphs by the newspaper convention (a
paragraph that continues a quote reopens it; the previous one stays open).
"""

from __future__ import annotations

import re

from flows.stages.lexicons import words
from flows.stages.parse import doc_text
from flows.stages.quotes.cues import ends_with_reporting_verb, is_reporting_verb
from flows.stages.quotes.document import inside, sentence_of
from flows.stages.quotes.rules import rule

OPENING = "“„«"
CLOSING = "”»"
# Where quoted_spans has something to decide: a paragraph break or a quotation mark.
QUOTE_EVENTS = re.compile("\n\n|[" + OPENING + CLOSING + '"]')
TITLE_CUES = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words("title_cue_words"))) + r")\W{0,3}$",
                        re.IGNORECASE)
# A title cue stands within this many characters before the quote: "the film", "his new
# single, called".
TITLE_CUE_CHARS = 60
# A nickname follows a capitalised word within this many characters: Antonio "LA" Reid.
NICKNAME_CHARS = 30
# Up to this many words in quotation marks with no reporting verb in the sentence are a
# name, a term or irony, not a quote: the "unpredictable" nature.
MAX_SCARE_WORDS = 2


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words inside every pair of double quotation marks.

    Curly quotes say whether they open or close; a straight one is read by its
    neighbours (a space before and a word after opens). A paragraph that opens with a
    quotation mark while a quote is still open continues it, and so does a mark that
    opens again inside a paragraph before the first was closed (a lost paragraph
    break, common in scraped text). A quote still open at the end of a paragraph that
    is not continued ends there; a closing mark with nothing open is ignored.
    """
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    resume = 0  # a paragraph's opening mark that continues a quote is passed over
    for event in QUOTE_EVENTS.finditer(text):
        i = event.start()
        if i < resume:
            continue
        if event.group() == "\n\n":
            next_start = i + 2
            continued = next_start < len(text) and text[next_start] in OPENING + '"'
            if opened is not None and not continued:
                spans.append((opened, i))
                opened = None
            resume = next_start + (1 if opened is not None and continued else 0)
            continue
        role = _mark_role(text, i)
        if role == "open" and opened is None:
            opened = i + 1
        elif role == "close" and opened is not None:
            spans.append((opened, i))
            opened = None
    if opened is not None:
        spans.append((opened, len(text)))
    return [trimmed for trimmed in (_trim(text, s, e) for s, e in spans) if trimmed[0] < trimmed[1]]


def _mark_role(text: str, i: int) -> str | None:
    char = text[i]
    if char in OPENING:
        return "open"
    if char in CLOSING:
        return "close"
    if char != '"':
        return None
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if (before.isspace() or before in "([{—–-/") and not after.isspace():
        return "open"
    if not before.isspace():
        return "close"
    return "open" if not after.isspace() else None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def kind_of_quote(doc, start: int, end: int, quoted: list[tuple[int, int]]) -> str | None:
    """ "direct", "partial", or None for what is no quote (see the rules below)."""
    text = doc_text(doc)
    if quoted_title(text, start, end) or nickname(text, start, end):
        return None
    reported = any(is_reporting_verb(t) for t in sentence_of(doc, start) if not inside(t.idx, quoted))
    if scare_quote(text, start, end, reported):
        return None
    if direct_quote(doc, start, end):
        return "direct"
    if not reported:
        return None  # a fragment with no reporting words: a name, a slogan, irony ("the "Winter of Discontent"")
    return "partial"


@rule("bbc/business/478.txt", "what are called", not_quoted="qualified industrial zones")
def quoted_title(text: str, start: int, end: int) -> bool:
    """ 'what are called "qualified industrial zones"', 'the film "..."': a title, a
    name or a term after a word that says so, unless it ends like a statement."""
    before = text[max(0, start - TITLE_CUE_CHARS):start - 1]
    return TITLE_CUES.search(before) is not None and not re.search(r"[.!?,]$", text[start:end])


@rule("bbc/entertainment/117.txt", "Antonio \"LA\" Reid", not_quoted="LA")
def nickname(text: str, start: int, end: int) -> bool:
    """A nickname inside a name: Antonio "LA" Reid."""
    return len(text[start:end].split()) <= MAX_SCARE_WORDS \
        and re.search(r"[A-Z][\w.]*\s$", text[max(0, start - NICKNAME_CHARS):start - 1]) is not None \
        and re.match(r"\s[A-Z]", text[end + 1:end + 3]) is not None


@rule("bbc/tech/170.txt", "Games aimed at", not_quoted="casual players")
def scare_quote(text: str, start: int, end: int, reported: bool) -> bool:
    """ 'Games aimed at "casual players"': a word or two in quotation marks in a sentence
    that reports nobody's words."""
    return len(text[start:end].split()) <= MAX_SCARE_WORDS and not reported


@rule("seeds/004_fc3749eefbad87f8.txt", "This constitutes a threat to security", kind="direct",
      speaker="Masoud Barzani")
def direct_quote(doc, start: int, end: int) -> bool:
    """A statement of its own: it opens a paragraph, follows a colon or a finished
    sentence, or a reporting verb ('he said "..."'), and is not lower-case; or it is a
    whole sentence after "that" ('X posted that "USA will have to leave."')."""
    text = doc_text(doc)
    line_start = text.rfind("\n", 0, start - 1) + 1
    lead = text[line_start:start - 1].rstrip()
    opens_statement = (not lead or re.search(r"[:,.!?][\"”’']?$", lead) is not None  # also '." "More ...
                       or ends_with_reporting_verb(doc, start))
    whole_sentence = text[start].isupper() and re.search(r"[.!?]\W*$", text[start:end]) is not None
    return (opens_statement and not text[start].islower()) or (whole_sentence and lead.endswith(" that"))
