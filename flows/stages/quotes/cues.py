"""Cues: the reporting words that attribute a quote to someone ("said", "points out",
"according to", "made it clear"). A cue is one or more tokens, or a punctuation mark;
its `head` is the word its speaker hangs from in the parse.

The cue words are data: flows/stages/lexicons/reporting_verbs.txt. Which patterns
find cues, and what follows from each, is flows.stages.quotes.patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.stages.lexicons import words
from flows.stages.quotes.document import sentence_of, tokens_between
from flows.stages.quotes.rules import rule

# Lemmas of verbs that report speech, not thought.
REPORTING_VERBS = words("reporting_verbs")
# Verbs that report speech only with their particle: "points out".
PARTICLE_VERBS = {"point": "out"}
# Verbs that report speech with a fixed object: "made it clear", "expressed concern".
PHRASE_VERBS = {"put", "make", "express", "voice", "raise"}
PHRASE_CONCERNS = {"concern", "concerns", "fears", "doubts"}
# How far before a quote a reporting verb that introduces it may end ('he said "...'):
# a few words.
CUE_BEFORE_QUOTE_CHARS = 40
# A name line ("- Manchester City boss Kevin Keegan:") has at most this many tokens.
NAME_LINE_TOKENS = 8
QUOTE_OPENERS = {'"', "“", "``"}
# At most this many words after a final cue: its speaker ("..., says the ministry.").
FINAL_CUE_WORDS = 6


@dataclass(frozen=True)
class Cue:
    tokens: object  # the spaCy span of the reporting words as written
    head: object  # the token the speaker hangs from
    pattern: object = None  # the flows.stages.quotes.patterns.Pattern that found it

    @property
    def start(self) -> int:
        return self.tokens.start_char

    @property
    def end(self) -> int:
        return self.tokens.end_char

    @property
    def lemma(self) -> str:
        return self.head.lemma_


@rule("seeds/003_9afdfb6f5bdbdf88.txt", "According to human rights watchdog Amnesty International", kind="indirect",
      cue="According to", speaker="Amnesty International")
def according_to(token) -> Cue | None:
    """ "according to X": two tokens; X is the speaker."""
    doc = token.doc
    if token.lower_ == "according" and token.i + 1 < len(doc) and doc[token.i + 1].lower_ == "to":
        return Cue(doc[token.i:token.i + 2], token)
    return None


@rule("seeds/001_3a4f165f839e8a51.txt", "Russia has been very helpful", kind="direct", cue="said", speaker="Jeff Davis")
def reporting_verb(token) -> Cue | None:
    """A verb of the lexicon, with its particle where it needs one ("points out")."""
    lemma = token.lemma_.lower()
    if lemma not in REPORTING_VERBS and token.lower_ not in REPORTING_VERBS:
        return None
    if lemma in PARTICLE_VERBS and not any(c.lower_ == PARTICLE_VERBS[lemma] for c in token.children):
        return None
    if not (token.pos_ in ("VERB", "AUX") or token.tag_.startswith("VB")):
        return None
    return _verb_cue(token)


@rule("bbc/business/091.txt", "the agency made it clear", kind="indirect", cue="made", speaker="the agency")
def reporting_phrase(token) -> Cue | None:
    """ "made it clear", "expressed concern", "voiced their concern", "As ... put it:"
    report speech too; the verb is the cue."""
    lemma = token.lemma_.lower()
    if lemma not in PHRASE_VERBS or token.pos_ != "VERB" or token.lower_ in REPORTING_VERBS:
        return None
    objects = {c.lower_ for c in token.children if c.dep_ in ("dobj", "ccomp", "oprd", "acomp")}
    said = (lemma == "make" and "clear" in objects) or (
        lemma in ("express", "voice", "raise") and bool(objects & PHRASE_CONCERNS)) or (
        lemma == "put" and "it" in objects and any(c.dep_ == "mark" and c.lower_ == "as" for c in token.children))
    return _verb_cue(token) if said else None


@rule("bbc/sport/101.txt", "Manchester City boss Kevin Keegan:", kind="direct", cue=":", speaker="Kevin Keegan")
def colon_after_name(token) -> Cue | None:
    """ '- Manchester City boss Kevin Keegan: "We had a great chance ..."': a line that
    opens with a person's or organisation's name (and their title), then a colon and a
    quotation mark, gives the quote to that name; the colon is the cue. No verb may
    stand before it ("He said:" has its own cue)."""
    doc = token.doc
    if token.text != ":" or token.i == 0 or token.i + 1 >= len(doc):
        return None
    following = doc[token.i + 1]
    if following.is_space and token.i + 2 < len(doc):
        following = doc[token.i + 2]
    if following.text not in QUOTE_OPENERS:
        return None
    line = []
    for before in reversed(doc[max(0, token.i - NAME_LINE_TOKENS - 1):token.i]):
        if before.is_space and "\n" in before.text:
            break
        line.insert(0, before)
    else:
        if token.i - NAME_LINE_TOKENS - 1 > 0:
            return None  # the line is longer than a name and a title
    words = [t for t in line if not (t.is_punct and t.i == line[0].i)]
    name = words[-1] if words else None
    if name is None or name.pos_ != "PROPN" or name.ent_type_ not in ("PERSON", "ORG") or \
            any(t.pos_ in ("VERB", "AUX") for t in words) or len(words) > NAME_LINE_TOKENS:
        return None
    return Cue(doc[token.i:token.i + 1], token)


def _verb_cue(verb) -> Cue:
    """The verb with the particle right after it ("points out")."""
    particles = [c for c in verb.children if c.dep_ == "prt" and c.i == verb.i + 1]
    last = particles[0] if particles else verb
    return Cue(verb.doc[verb.i:last.i + 1], verb)


def is_reporting_verb(token) -> bool:
    return reporting_verb(token) is not None or reporting_phrase(token) is not None


def ends_with_reporting_verb(doc, char: int) -> bool:
    """Does a reporting verb end the words right before `char`?"""
    before = tokens_between(doc, max(0, char - CUE_BEFORE_QUOTE_CHARS), char - 1)
    return bool(before) and is_reporting_verb(before[-1])


def final_cue(verb) -> bool:
    """ "..., points out Reuters." / "..., says the ministry.": a cue after a comma that
    only its speaker follows to the end of the sentence."""
    sentence = sentence_of(verb.doc, verb.idx)
    before = verb.doc[verb.i - 1] if verb.i > sentence.start else None
    rest = [t for t in sentence if t.i > verb.i and not t.is_punct]
    return before is not None and before.text == "," and 0 < len(rest) <= FINAL_CUE_WORDS
