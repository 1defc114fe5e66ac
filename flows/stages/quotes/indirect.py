"""Indirect speech: what a cue reports without quotation marks. Each rule takes a cue
and gives the (start, end) of the words it reports, or None; a pattern
(flows.stages.quotes.patterns) tries its rules in order.
"""

from __future__ import annotations

from flows.stages.parse import doc_text
from flows.stages.quotes.cues import Cue, final_cue, is_reporting_verb
from flows.stages.quotes.document import sentence_of
from flows.stages.quotes.rules import rule
from flows.stages.quotes.speakers import TITLE_WORDS_BEFORE_NAME

# Fewer tokens than this are no statement ("he said so").
MIN_CLAUSE_TOKENS = 3
# Shorter than this many characters (trimmed) is no statement either: "it was", "he had".
MIN_CLAUSE_CHARS = 12


@rule("seeds/002_655390921e1c2ba6.txt", "The media reports have maintained that", kind="indirect", cue="maintained",
      speaker="The media reports")
def reported_clause(cue: Cue) -> tuple[int, int] | None:
    """ "The media reports have maintained that the Syrian forces ... progressed
    southeast": the clause the verb takes, with or without "that"."""
    verb = cue.head
    clauses = [c for c in verb.children if c.dep_ == "ccomp"]
    if not clauses:
        return None
    clause = clauses[0]
    if clause.pos_ == "ADJ":  # "made it clear that ...": the clause the adjective takes
        clause = next((c for c in clause.children if c.dep_ in ("ccomp", "advcl")
                       and any(m.dep_ == "mark" for m in c.children)), clause)
    # "X said it was wrong, adding they would ...": the participle reports apart.
    reported_apart = {t.i for c in clause.children if c.dep_ in ("advcl", "conj") and c.tag_ == "VBG"
                      and is_reporting_verb(c) for t in c.subtree}
    tokens = [t for t in clause.subtree if not (t.dep_ == "mark" and t.head.i == clause.i)
              and t.i not in reported_apart]
    tokens = [t for t in tokens if t.i > verb.i] if clause.i > verb.i else [t for t in tokens if t.i < verb.i]
    if len(tokens) < MIN_CLAUSE_TOKENS:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


@rule("seeds/003_9afdfb6f5bdbdf88.txt", "with its regional allies, points out Reuters", kind="indirect",
      cue="points out", speaker="Reuters")
def clause_before_final_cue(cue: Cue) -> tuple[int, int] | None:
    """ "..., points out Reuters.", "..., says the ministry.": the sentence before the cue."""
    verb = cue.head
    if not final_cue(verb):
        return None
    paragraph_start = doc_text(verb.doc).rfind("\n\n", 0, verb.idx) + 2
    tokens = [t for t in sentence_of(verb.doc, verb.idx) if t.i < verb.i - 1 and t.idx >= paragraph_start]
    if len(tokens) < MIN_CLAUSE_TOKENS:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


@rule("bbc/politics/367.txt", "The Tories, he said, can cut crime", kind="indirect", cue="said", speaker="he",
      text="can cut crime")
def clause_after_parenthetical_cue(cue: Cue) -> tuple[int, int] | None:
    """ "The Tories, he said, can cut crime and improve public services", "By contrast,
    says Mr Cox, the Mac mini is almost disposable": a cue set off by commas inside the
    clause it reports speaks for the words after the second comma."""
    verb = cue.head
    if verb.dep_ != "parataxis":
        return None
    doc, sentence = verb.doc, sentence_of(verb.doc, verb.idx)
    opening = next((t for t in reversed(doc[max(sentence.start, verb.i - 3):verb.i]) if t.text == ","), None)
    closing = next((t for t in doc[verb.i + 1:min(sentence.end, verb.i + 2 + TITLE_WORDS_BEFORE_NAME)]
                    if t.text == ","), None)
    if opening is None or closing is None:
        return None
    tokens = [t for t in sentence if t.i > closing.i and not t.is_space]
    if len(tokens) < MIN_CLAUSE_TOKENS:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


@rule("bbc/business/345.txt", "Tourism is a vital to many", kind="indirect", cue="according to",
      text="Tourism is a vital")
def according_clause(cue: Cue) -> tuple[int, int] | None:
    """ "According to X, ...", "..., according to X": the longer side of the sentence."""
    according = cue.head
    sentence = sentence_of(according.doc, according.idx)
    phrase = list(according.subtree)
    phrase_start, phrase_end = phrase[0].i, phrase[-1].i
    head_tokens = [t for t in sentence if t.i < phrase_start]
    tail_tokens = [t for t in sentence if t.i > phrase_end]
    tokens = tail_tokens if len(tail_tokens) > len(head_tokens) else head_tokens
    tokens = [t for t in tokens if not t.is_punct or t is not tokens[0]]
    if len(tokens) < MIN_CLAUSE_TOKENS:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


def trim_clause(text: str, start: int, end: int) -> tuple[int, int]:
    """No leading or trailing punctuation or spaces; no final full stop."""
    while start < end and (text[start].isspace() or text[start] in ",;:-—–"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:-—–"):
        end -= 1
    return start, end
