"""Quotes: who said what. Direct and partial quotes in quotation marks, and indirect
(reported) speech, each with its speaker as written, the reporting cue, and the
entity the speaker really is.

For one parsed article: the quoted spans and what each is (marks); the cue that
attributes each (patterns, cues) and who speaks (speakers); reported speech without
quotation marks (patterns, indirect); then each speaker's referent (referents). A
quote with no cue of its own continues the previous speaker; a speaker that cannot be
found stays null.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flows.stages.parse import doc_text
from flows.stages.quotes.cues import Cue
from flows.stages.quotes.document import inside, overlaps
from flows.stages.quotes.indirect import MIN_CLAUSE_CHARS, trim_clause
from flows.stages.quotes.marks import kind_of_quote, quoted_spans
from flows.stages.quotes.patterns import cue_candidates, cue_for, find_cue
from flows.stages.quotes.referents import description, resolve
from flows.stages.quotes.speakers import is_quantity, speaker_span

# The columns of extract_quotes' rows: the referent's span becomes speaker_entity_id
# once the dataset's entities are known (flows.stages.link).
QUOTE_COLUMNS = ["quote_id", "article_id", "start", "end", "text", "kind", "speaker", "speaker_start",
                 "speaker_end", "cue", "speaker_description", "referent_start", "referent_end"]
# A quote with no cue of its own continues the previous quote's speaker across at most
# this many paragraph breaks, the last of them only within CONTINUATION_CHARS: news
# goes on quoting one person for a paragraph or two, then names the next.
CONTINUATION_PARAGRAPHS = 2
CONTINUATION_CHARS = 400


@dataclass
class Quote:
    start: int
    end: int
    kind: str
    cue: Cue | None = None
    speaker: object = None  # the spaCy token that says it

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def quote_id_for(article_id: str, start: int, end: int) -> str:
    return hashlib.sha256(f"newscorpus/quote/{article_id}/{start}/{end}".encode()).hexdigest()[:16]


def extract_quotes(article_id: str, doc, found: dict[str, list[dict]]) -> list[dict]:
    """Quote rows for one parsed article; speakers resolve through the article's
    mentions, already in `found["mentions"]`."""
    text = doc_text(doc)
    quoted = quoted_spans(text)
    quotes = [Quote(start, end, kind) for start, end in quoted
              if (kind := kind_of_quote(doc, start, end, quoted)) is not None]
    for quote in quotes:
        quote.cue = cue_for(doc, quote.start, quote.end, quoted)
        quote.speaker = quote.cue.pattern.speaker(quote.cue, quoted) if quote.cue is not None else None
    quotes = [q for q in quotes if not (q.kind == "partial" and q.speaker is not None
                                        and is_quantity(q.speaker))]  # "92% said ..."
    quotes += indirect_quotes(doc, quoted, quotes)
    quotes.sort(key=lambda q: q.start)
    return _rows(article_id, doc, quotes, found["mentions"], quoted)


def indirect_quotes(doc, quoted: list[tuple[int, int]], direct: list[Quote]) -> list[Quote]:
    """Reported speech without quotation marks: what a cue outside the quotes reports
    (its pattern's clause rules), when someone says it."""
    found = []
    taken = [q.span for q in direct]
    text = doc_text(doc)
    for token in cue_candidates(doc):
        if inside(token.idx, quoted):
            continue
        cue = find_cue(token)
        if cue is None:
            continue
        clause = next((span for span in (rule(cue) for rule in cue.pattern.clauses) if span), None)
        if clause is None:
            continue
        start, end = trim_clause(text, *clause)
        reach = text[min(start, token.idx):max(end, token.idx)]
        if end - start < MIN_CLAUSE_CHARS or "\n\n" in reach or overlaps((start, end), taken + quoted):
            continue  # too short, across paragraphs, or already quoted
        speaker = cue.pattern.speaker(cue, quoted)
        if speaker is None or is_quantity(speaker):
            continue
        quote = Quote(start, end, "indirect", cue=cue, speaker=speaker)
        found.append(quote)
        taken.append(quote.span)
    return found


def _rows(article_id: str, doc, quotes: list[Quote], mentions: list[dict],
          quoted: list[tuple[int, int]]) -> list[dict]:
    """Quote rows; `referent_start`/`referent_end` name the mention the speaker refers
    to, which becomes `speaker_entity_id` once the dataset's entities are known. A
    speaker with no name keeps the words that describe them in `speaker_description`."""
    text = doc_text(doc)
    rows, previous = [], None
    for quote in quotes:
        span = speaker_span(quote.speaker, mentions) if quote.speaker is not None else None
        referent = None
        if span is not None:
            referent = resolve(doc, span, rows, mentions, quoted, quote.cue)
            own = description(doc, span)
            if own is not None and (referent is None or referent["label"] is None):
                referent = own  # "The Trafford Centre spokeswoman": not an earlier description
        elif quote.kind != "indirect" and previous is not None and _continues(text, previous, quote):
            referent = previous["_referent"]
        named = referent is not None and referent["label"] is not None
        row = {
            "quote_id": quote_id_for(article_id, quote.start, quote.end),
            "article_id": article_id,
            "start": quote.start,
            "end": quote.end,
            "text": text[quote.start:quote.end],
            "kind": quote.kind,
            "speaker": text[span[0]:span[1]] if span else None,
            "speaker_start": span[0] if span else None,
            "speaker_end": span[1] if span else None,
            "cue": text[quote.cue.start:quote.cue.end] if quote.cue is not None else None,
            "speaker_description": referent["text"] if referent is not None and not named else None,
            "referent_start": referent["start"] if named else None,
            "referent_end": referent["end"] if named else None,
            "_referent": referent,
        }
        rows.append(row)
        previous = row
    for row in rows:
        del row["_referent"]
    return rows


def _continues(text: str, previous: dict, quote: Quote) -> bool:
    """Is `quote` close enough after `previous` to continue its speaker?"""
    between = text[previous["end"]:quote.start]
    return between.count("\n\n") <= CONTINUATION_PARAGRAPHS - 1 or (
        between.count("\n\n") == CONTINUATION_PARAGRAPHS and len(between) < CONTINUATION_CHARS)
