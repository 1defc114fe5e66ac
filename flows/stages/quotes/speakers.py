"""Speakers: who says a cue's words (a token of the parse), and the speaker as
written (a span of the text: the name, the description, the pronoun).

A verb cue's speaker is found by the rules below, in order: a name set off right
after the cue, "quoted X as saying", then the subject of the verb or of the verb it
depends on (VERB_RULES, climbing at most CLIMBS steps).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from flows.stages.lexicons import words
from flows.stages.parse import doc_text
from flows.stages.quotes.cues import Cue, final_cue, is_reporting_verb
from flows.stages.quotes.document import inside, tokens_between
from flows.stages.quotes.kinds import DOCUMENT_NOUNS, PERSON_PRONOUNS, THING_PRONOUNS, kind_of
from flows.stages.quotes.rules import rule

QUANTIFIER_NOUNS = words("quantifier_nouns")
POLL_SHARE = re.compile(r"%|per ?cent|percent|half|(?:(?:one|two|three)-)?(?:thirds?|quarters?)|majority|minority")
# Titles between a cue or an organisation and a person's name: "said founder Mikhail
# Khodorkovsky", "said US Treasury Secretary John Snow".
TITLE_WORDS_BEFORE_NAME = 3
# A reporting verb hangs at most this many steps below the verb whose subject says it
# ("said X, adding: ...": "adding" is one step below "said").
CLIMBS = 3
# Between a closing quotation mark and an inverted cue: the mark, a comma and a space or two.
AFTER_QUOTE_CHARS = 4


@rule("seeds/003_9afdfb6f5bdbdf88.txt", "According to human rights watchdog Amnesty International", kind="indirect",
      speaker="Amnesty International")
def according_to_object(cue: Cue, quoted: list[tuple[int, int]]):
    """ "according to X": X."""
    objects = [c for c in cue.tokens[-1].children if c.dep_ == "pobj"]
    return objects[0] if objects else None


@rule("bbc/sport/101.txt", "Manchester City boss Kevin Keegan:", kind="direct", speaker="Kevin Keegan")
def name_before_colon(cue: Cue, quoted: list[tuple[int, int]]):
    """ "Kevin Keegan: ...": the name right before the colon."""
    return cue.head.doc[cue.head.i - 1]


def speaker_of_verb(cue: Cue, quoted: list[tuple[int, int]]):
    """The token that says a verb cue's words, or None."""
    for speaker_rule in (name_after_parenthetical_cue, quoted_person):
        found = speaker_rule(cue.head, quoted)
        if found is not None:
            return found
    return subject_of(cue.head, quoted)


@rule("bbc/business/089.txt", "said Junya Tanase", kind="partial", cue="said", speaker="Junya Tanase")
def name_after_parenthetical_cue(cue, quoted: list[tuple[int, int]]):
    """ "The ministers' comments, said Junya Tanase of JPMorgan, were ...", '"...," said
    Nick Ross': a cue set off by a comma and followed by a person's name speaks for that
    person, whatever the parse made its subject."""
    doc = cue.doc
    after_comma = cue.i > 0 and doc[cue.i - 1].text == ","
    after_quote = cue.i > 1 and doc[cue.i - 1].text in '"”' and doc[cue.i - 2].text == "," \
        and not any(c.dep_ == "nsubj" for c in cue.children)  # '"...," said X' that the parse lost
    if not (after_comma or after_quote) or cue.i + 1 >= len(doc):
        return None
    following = doc[cue.i + 1:cue.i + 1 + TITLE_WORDS_BEFORE_NAME + 1]
    person = next((t for t in following if t.ent_type_ == "PERSON" and t.ent_iob_ == "B"), None)
    if person is None or person.pos_ != "PROPN" or \
            any(t.pos_ not in ("NOUN", "PROPN") for t in following if t.i < person.i):
        return None
    return person


@rule("bbc/business/319.txt", "quoted the executive as saying", kind="direct", cue="quoted", speaker="the executive")
def quoted_person(cue, quoted: list[tuple[int, int]]):
    """ "the newspaper quoted the executive as saying": the one quoted, not the quoter."""
    quoting = cue if cue.lemma_ == "quote" else next((a for a in cue.ancestors if a.lemma_ == "quote"), None)
    if quoting is not None and any(t.lower_ == "saying" for t in quoting.subtree):
        quoted_people = [c for c in quoting.children if c.dep_ == "dobj" and not inside(c.idx, quoted)]
        if quoted_people:
            return quoted_people[0]
    return None


class Climb(NamedTuple):
    """A verb rule's answer: the speaker is found from this verb instead."""
    verb: object


def subject_of(cue, quoted: list[tuple[int, int]]):
    """The cue's subject, or that of the verb it depends on: the first of VERB_RULES
    that answers, at each verb from the cue up."""
    verb = reporting_ancestor(cue) if cue.tag_ == "VBG" else cue
    for _ in range(CLIMBS):
        outside = [c for c in verb.children if not inside(c.idx, quoted)]
        for verb_rule in VERB_RULES:
            found = verb_rule(verb, cue, outside, quoted)
            if isinstance(found, Climb):
                verb = found.verb
                break
            if found is not None:
                return found
        else:
            return None
    return None


@rule("bbc/entertainment/141.txt", "described by Sharon as", kind="partial", cue="described", speaker="Sharon")
def passive_agent(verb, cue, outside: list, quoted: list[tuple[int, int]]):
    """ 'a sapphire ... described by Sharon as "one of the only ..."': the agent of a passive."""
    agents = [g for c in outside if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
    return agents[0] if agents else None


@rule("bbc/entertainment/323.txt", "Staunton, 49, who told BBC News 24", kind="indirect", cue="told",
      speaker="Staunton")
def relative_pronoun(verb, cue, outside: list, quoted: list[tuple[int, int]]):
    """ "Staunton, 49, who told BBC News 24 she had not thought ...", "the committee,
    which said": the noun the pronoun stands for."""
    subjects = [c for c in outside if c.dep_ == "nsubj"]
    if subjects and subjects[0].tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
        return relative_antecedent(subjects[0])
    return None


@rule("seeds/002_655390921e1c2ba6.txt", "on his Twitter posted that", kind="direct", cue="posted",
      speaker="Elijah J. Magnier")
def subject(verb, cue, outside: list, quoted: list[tuple[int, int]]):
    """The verb's subject outside the quotes; past a quantity ("a number of X")."""
    subjects = [c for c in outside if c.dep_ == "nsubj"]
    return past_quantifier(subjects[0]) if subjects else None


@rule("seeds/004_fc3749eefbad87f8.txt", "read a statement from the office", kind="direct", cue="read",
      speaker="Masoud Barzani")
def inverted_subject(verb, cue, outside: list, quoted: list[tuple[int, int]]):
    """ '"...," read a statement from the office of KRG's President Masoud Barzani',
    "..., points out Reuters.": after the quote or at the sentence's end, the noun
    after the cue."""
    inverted = [c for c in outside if c.i > verb.i and c.dep_ in ("dobj", "attr", "nsubj", "npadvmod")
                and c.pos_ in ("NOUN", "PROPN", "PRON")]
    if inverted and verb.i == cue.i and (directly_after_quote(cue, quoted) or final_cue(cue)):
        return inverted[0]
    return None


@rule("bbc/tech/224.txt", "the latest studio to announce", kind="indirect", cue="announce", speaker="the latest studio")
def relative_clause_head(verb, cue, outside: list, quoted: list[tuple[int, int]]):
    """ "Disney is the latest studio to announce which technology it is backing": a
    reporting verb in a clause that describes a noun speaks for that noun. (In all of
    BBC it fires 9 times; in 8 the noun is not the speaker: "three months to respond".)"""
    return verb.head if verb.dep_ == "relcl" else None


@rule("bbc/tech/268.txt", "promised further patents would be made freely available", kind="indirect", cue="promised",
      speaker="IBM")
def clause_head(verb, cue, outside: list, quoted: list[tuple[int, int]]):
    """ "IBM described the step as ... and promised further patents would be made freely
    available", "said X, adding: ...": the verb the clause hangs from."""
    if verb.dep_ in ("advcl", "xcomp", "conj", "ccomp") and verb.head.i != verb.i:
        return Climb(verb.head)
    return None


@rule("seeds/000_b06237d64b3f50aa.txt", "after claiming its vehicles", kind="indirect", cue="claiming", speaker="U.S.")
def preposition_head(verb, cue, outside: list, quoted: list[tuple[int, int]]):
    """ "The U.S. launched an airstrike ... after claiming its vehicles came within 18
    miles of ...": the U.S., the subject of the verb the preposition hangs from."""
    if verb.dep_ == "pcomp" and verb.head.dep_ == "prep":
        return Climb(verb.head.head)
    return None


VERB_RULES = (passive_agent, relative_pronoun, subject, inverted_subject, relative_clause_head, clause_head,
              preposition_head)


def past_quantifier(token):
    """ "A number of large MCI shareholders": the shareholders."""
    if token.lower_ not in QUANTIFIER_NOUNS:
        return token
    of = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "of"), None)
    objects = [c for c in of.children if c.dep_ == "pobj"] if of is not None else []
    return objects[0] if objects else token


def reporting_ancestor(participle):
    """The reporting verb a participle cue continues: in "He said Mr Blair had spoken
    with sincerity, adding: ...", "adding" belongs to "said", not to "spoken"."""
    return next((a for a in participle.ancestors if is_reporting_verb(a)), participle)


def relative_antecedent(pronoun):
    """The noun a relative pronoun stands for: the one just before it ("Tessa Jowell
    who said", "the committee, which said"), whatever head the parse gave the clause."""
    doc = pronoun.doc
    i = pronoun.i - 1
    while i >= 0 and doc[i].is_punct:
        i -= 1
    if i >= 0 and doc[i].pos_ in ("NOUN", "PROPN"):
        return doc[i]
    return pronoun.head.head


def directly_after_quote(token, quoted: list[tuple[int, int]]) -> bool:
    """Is only the closing mark (and a comma) between a quote and this token?"""
    text = doc_text(token.doc)
    return any(0 <= token.idx - end <= AFTER_QUOTE_CHARS and not text[end:token.idx].strip(" ,”\"'’—–-")
               for _, end in quoted)


def is_quantity(token) -> bool:
    """ "87% said", "three-quarters of respondents said": a poll's share, not a speaker
    (unlike "one of the Guildford Four said")."""
    return token.ent_type_ == "PERCENT" or POLL_SHARE.fullmatch(token.lower_) is not None


def speaker_span(token, mentions: list[dict]) -> tuple[int, int]:
    """Character span of the speaker as written: the mention the subject's head is
    part of; else a person named in its phrase ("a statement from the office of
    President Masoud Barzani"); else the noun phrase ("the news outlet", "he")."""
    start, end = token.idx, token.idx + len(token)
    subtree = own_phrase(token)
    beside = [c for c in token.head.children if c.dep_ in ("npadvmod", "appos") and c.i != token.i]
    subtree += [t for c in beside for t in c.subtree]
    kind = kind_of(token.lower_)
    if kind is not None and kind.is_person:
        # "a spokesman for the prosecutor, Alan Hevesi": the one spoken for is not the speaker.
        spoken_for = {t.i for c in token.rights if c.dep_ == "prep" and c.lower_ == "for" for t in c.subtree}
        subtree = [t for t in subtree if t.i not in spoken_for]
    people = [m for m in mentions if m["label"] == "PERSON"
              and any(m["start"] <= t.idx < m["end"] for t in subtree)]
    holding = [m for m in mentions if m["start"] <= start and end <= m["end"]]
    if holding:
        titled = [p for p in mentions if p["label"] == "PERSON"
                  and title_between(token.doc, holding[0], p)]
        chosen = titled[0] if titled and holding[0]["label"] != "PERSON" else holding[0]
        return chosen["start"], chosen["end"]
    if token.lower_ in PERSON_PRONOUNS | THING_PRONOUNS:
        return start, end
    left = [c for c in token.lefts if c.dep_ in ("det", "amod", "compound", "poss", "nmod", "nummod")]
    first = min([c for t in left for c in t.subtree], key=lambda t: t.i, default=token)
    named = [m for m in mentions if m["start"] == end + 1 and m["label"] in ("PERSON", "ORG")]
    if named:
        return named[0]["start"], named[0]["end"]  # "the statistical office INSEE"
    if people:
        return people[-1]["start"], people[-1]["end"]
    source = document_source(token)
    if source is not None:
        return first.idx, source[-1].idx + len(source[-1])  # "a report in the Sunday Telegraph"
    # An organisation named before the head ("human rights watchdog Amnesty
    # International", "the Iranian Tasnim agency"), not one after ("a spokesman for X"),
    # nor one a person belongs to ("the Factory Records founder").
    before_head = [t for c in [*token.lefts, *(c for c in token.children if c.dep_ == "conj")]
                   for t in c.subtree]
    organisations = [m for m in mentions if m["label"] == "ORG"
                     and any(m["start"] <= t.idx < m["end"] for t in before_head)]
    if organisations and not (kind is not None and kind.is_person):  # not "MCI shareholders"
        return organisations[0]["start"], organisations[0]["end"]
    return first.idx, end


def document_source(token) -> list | None:
    """The tokens of "in the Sunday Telegraph", "from the ministry", "revealed by the
    Electoral Commission": where a report, a statement or figures come from, which is
    who speaks through them."""
    if token.lower_ not in DOCUMENT_NOUNS:
        return None
    for child in token.rights:
        if child.dep_ == "acl" and child.tag_ == "VBN":  # "figures gathered by Netcraft"
            child = next((c for c in child.children if c.dep_ == "agent"), None)
        elif not (child.dep_ == "prep" and child.lower_ in ("in", "by", "from", "of")):
            continue
        if child is not None and any(t.pos_ == "PROPN" for t in child.subtree):
            return list(child.subtree)
    return None


def own_phrase(token) -> list:
    """The token's phrase without possessors or relative clauses, which name someone
    else: "Mr Blair's official spokesman" is not Mr Blair, "the head of Surrey's
    Lionhead" not Surrey, "the founder, who lives in Manchester" not Manchester."""
    phrase = {t.i for t in token.subtree}
    return [t for t in token.subtree
            if not any(a.dep_ in ("poss", "relcl") and a.i != token.i and a.i in phrase
                       for a in [t, *t.ancestors])]


def title_between(doc, organisation: dict, person: dict) -> bool:
    """ "Culture Secretary Tessa Jowell", "Usdaw general secretary John Hannett": a
    person named right after an organisation and a title or two (nouns and adjectives,
    not "Microsoft said Bill Gates")."""
    between = tokens_between(doc, organisation["end"], person["start"])
    return 0 <= person["start"] - organisation["end"] and len(between) <= TITLE_WORDS_BEFORE_NAME \
        and all(t.pos_ in ("NOUN", "PROPN", "ADJ", "PUNCT", "CCONJ") for t in between)
