"""Attribution patterns: each way news attributes words to someone, in one place.

A pattern is found by its cue (`match`: the token it starts at, or None), says who
speaks (`speaker`: the token, from flows.stages.quotes.speakers) and, where no
quotation marks mark the words, what is reported (`clauses`: tried in order, from
flows.stages.quotes.indirect). To add one, write its cue rule (cues.py), pick or
write its speaker and clause rules, each with the real sentence it is for, and list
it here; flows.stages.quotes.extract needs no change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from flows.stages.parse import doc_text
from flows.stages.quotes.cues import (PHRASE_VERBS, REPORTING_VERBS, Cue, according_to, colon_after_name,
                                      reporting_phrase, reporting_verb)
from flows.stages.quotes.document import sentence_of, tokens_between
from flows.stages.quotes.indirect import (according_clause, clause_after_parenthetical_cue, clause_before_final_cue,
                                          reported_clause)
from flows.stages.quotes.speakers import according_to_object, name_before_colon, speaker_of_verb

# A finished sentence is attributed only by words right after it ('"...?" asked Smith'),
# not by a new sentence that reports something else; '"..." the company's chief
# executive said' has its cue within this many tokens.
AFTER_SENTENCE_CUE_TOKENS = 6


@dataclass(frozen=True)
class Pattern:
    name: str
    match: Callable  # token -> Cue | None
    speaker: Callable  # (cue, quoted spans) -> token | None
    clauses: tuple[Callable, ...]  # cue -> (start, end) | None, for reported speech
    lemmas: frozenset[str]  # the lemmas (lower-cased) its cue's first token may have
    words: frozenset[str] = frozenset()  # or the words


VERB_CLAUSES = (reported_clause, clause_before_final_cue, clause_after_parenthetical_cue)
PATTERNS = (
    Pattern("according to", according_to, according_to_object, (according_clause,),
            lemmas=frozenset(), words=frozenset({"according"})),
    Pattern("reporting verb", reporting_verb, speaker_of_verb, VERB_CLAUSES,
            lemmas=REPORTING_VERBS, words=REPORTING_VERBS),
    Pattern("reporting phrase", reporting_phrase, speaker_of_verb, VERB_CLAUSES, lemmas=frozenset(PHRASE_VERBS)),
    # Only with quotation marks: no clause rules, so not a cue of reported speech.
    Pattern("name and colon", colon_after_name, name_before_colon, (), lemmas=frozenset()),
)
CUE_LEMMAS = frozenset().union(*(p.lemmas for p in PATTERNS))
CUE_WORDS = frozenset().union(*(p.words for p in PATTERNS))


def find_cue(token) -> Cue | None:
    """The cue of the first pattern that starts at `token`, knowing its pattern."""
    for pattern in PATTERNS:
        cue = pattern.match(token)
        if cue is not None:
            return replace(cue, pattern=pattern)
    return None


def cue_candidates(doc) -> list:
    """The tokens whose lemma or lowercase form a cue can have, in order: found in the
    doc's arrays, without making a Token of every word (the others cannot be cues)."""
    lemmas, lowers = (column.tolist() for column in doc.to_array(["LEMMA", "LOWER"]).T)
    strings = doc.vocab.strings
    cue_lemmas = {h for h in set(lemmas) if strings[h].lower() in CUE_LEMMAS}
    cue_words = {h for h in set(lowers) if strings[h] in CUE_WORDS}
    return [doc[i] for i, (lemma, lower) in enumerate(zip(lemmas, lowers))
            if lemma in cue_lemmas or lower in cue_words]


def cue_for(doc, start: int, end: int, quoted: list[tuple[int, int]]) -> Cue | None:
    """The cue that attributes the quoted span `start`-`end`."""
    text = doc_text(doc)
    close = end + 1
    # Look after the quote up to the next quote or the end of the sentence, and
    # before it back to the previous quote or the start of the sentence; never into
    # another paragraph, which attributes its own words.
    paragraph_end = text.find("\n", close)
    after_end = min([s - 1 for s, _ in quoted if s > end]
                    + [sentence_of(doc, min(close, len(text) - 1)).end_char]
                    + ([paragraph_end] if paragraph_end != -1 else []))
    before_start = max([e + 1 for _, e in quoted if e < start]
                       + [sentence_of(doc, start).start_char, text.rfind("\n", 0, start) + 1])
    after = tokens_between(doc, close, after_end)
    before = [t for t in tokens_between(doc, before_start, start - 1) if t.idx + len(t) <= start - 1]
    ends_with_comma = re.search(r"[,—–-]\W*$", text[start:end]) is not None
    if re.search(r"[.!?]\W*$", text[start:end]):
        after = after[:AFTER_SENTENCE_CUE_TOKENS]
    after_cues = [c for c in map(find_cue, after) if c is not None]
    before_cues = [c for c in map(find_cue, reversed(before)) if c is not None]
    introduced = text[before_start:start - 1].rstrip().endswith(":")
    if after_cues and (ends_with_comma or not before_cues) and not (introduced and before_cues):
        return after_cues[0]
    if before_cues:
        return before_cues[0]
    return None
