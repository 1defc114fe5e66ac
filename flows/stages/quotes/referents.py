"""Referents: the mention a speaker refers to. A name is its own mention; "he", "it"
and definite descriptions ("the news outlet", "the committee") resolve to the latest
speaker or subject of a fitting kind, or to an earlier name with the description's
head word; a speaker the article never names keeps the words that describe them.
"""

from __future__ import annotations

from flows.stages.parse import doc_text
from flows.stages.quotes.cues import Cue
from flows.stages.quotes.document import inside, sentence_index, sentence_of, tokens_between
from flows.stages.quotes.kinds import (GENERIC_ORGANISATION_NOUNS, ORGANISATION_KIND, ORGANISATION_NOUNS,
                                       PERSON_PRONOUNS, THING_PRONOUNS, Kind, head_word, kind_of)
from flows.stages.quotes.rules import rule
from flows.stages.quotes.speakers import document_source, own_phrase, speaker_span

# How far back (characters) a pronoun or a description looks for whom it stands for:
# a few paragraphs; further back, news names the speaker again.
LOOKBACK_CHARS = 1500
DEFINITE = {"the", "this", "that", "these", "those"}
# The sentences after a lead's description of its speaker that may name them ("..., the
# trade and industry secretary has said." then "Patricia Hewitt ...").
LEAD_NAMING_SENTENCES = 2
SENTENCES_BACK = 4  # how far back a pronoun or description looks for its referent
# Cues that go on with the one who spoke last: "he added", "she continued".
CONTINUING_CUES = {"add", "continue"}


def resolve(doc, span: tuple[int, int], rows: list[dict], mentions: list[dict],
             quoted: list[tuple[int, int]], cue: Cue | None = None) -> dict | None:
    """The mention the speaker refers to.

    A name is its own mention. "The US military" is the organisation or place its
    name is built on; "the firm" the organisation named last. "He", "she", "it" and
    definite descriptions ("the news outlet", "the committee") refer to the nearest
    earlier sentence that attributed a quote to someone of that kind, or had such a
    subject; a description also to an earlier name containing its head word ("Joint
    Committee ..."). "He" never stands for a woman's name, nor "she" for a man's.
    Indefinite descriptions ("a senior official", "analysts") are someone unnamed: no
    referent.
    """
    for mention in mentions:
        if (mention["start"], mention["end"]) == span:
            return mention
    for token in tokens_between(doc, *span):
        source = document_source(token)
        if source is not None:
            # Not an owner inside it: "by the UK gaming industry's trade body" is no UK.
            owned = {t.i for t in source if t.dep_ == "poss" for t in t.subtree}
            spoken_through = [m for m in mentions if m["label"] in ("PERSON", "ORG", "GPE")
                              and any(m["start"] <= t.idx < m["end"] for t in source if t.i not in owned)]
            return spoken_through[0] if spoken_through else None
    words = doc_text(doc)[span[0]:span[1]].lower().split()
    head = words[-1] if words else ""
    named = [m for m in mentions if span[0] <= m["start"] and m["end"] <= span[1]
             and m["label"] in ("ORG", "GPE") and _is_compound(doc, m)]
    if head in ORGANISATION_NOUNS and named:
        return named[-1]  # "the US military", "the Labour party"
    generic = generic_organisation(doc, span, words)
    wanted = kind_of(head) or (ORGANISATION_KIND if generic else None)
    pronoun = head in PERSON_PRONOUNS | THING_PRONOUNS
    if wanted is None:
        return None
    if pronoun and cue is not None and cue.lemma in CONTINUING_CUES:
        # "he added", "she went on": the one who spoke last, whoever was named since.
        previous = next((row for row in reversed(rows) if row["speaker_start"] is not None
                         and span[0] - row["speaker_start"] < LOOKBACK_CHARS
                         and _speaker_fits(doc, row, wanted, mentions)), None)
        if previous is not None:
            return previous["_referent"]
    # "The Telegraph was sued ... after the newspaper claimed": news names an
    # organisation, then calls it "the firm", "the group": the subject named before it
    # in the sentence, else whoever the walk back finds, else the one named last.
    organisations = [m for m in mentions if m["end"] <= span[0] and m["label"] == "ORG"
                     and span[0] - m["end"] < LOOKBACK_CHARS] if generic else []
    described_by = tokens_between(doc, *span)[-1]
    subjects = [m for m in organisations if any(  # of a clause the description's clause is part of
        t.dep_ in ("nsubj", "nsubjpass") and t.head in described_by.ancestors
        for t in tokens_between(doc, m["start"], m["end"]))]
    if subjects:
        return subjects[-1]
    found = _described(doc, span, wanted, pronoun, words, rows, mentions, quoted)
    if (found is None or found["label"] is None) and organisations:
        return organisations[-1]
    return found


@rule("reuters21578/json-data/reut2-013.json#947", "the computer maker said", kind="indirect",
      speaker="the computer maker", referent="Unisys Corp")
def generic_organisation(doc, span: tuple[int, int], words: list[str]) -> bool:
    """ "..., the computer maker said.", "The food retailer chain said ...": "the" and a
    head that stands for any organisation (generic_organisation_nouns.txt), with
    nothing that names an owner, stand for an organisation named before, even where
    the head alone does not say it is one (in BBC, "the veteran game maker" is a person:
    the one case of 13,515 quotes it gets wrong, against 11 right in Reuters-21578)."""
    return bool(words) and words[-1] in GENERIC_ORGANISATION_NOUNS and words[0] in DEFINITE \
        and _plain_description(doc, span)


def _described(doc, span: tuple[int, int], wanted: Kind, pronoun: bool, words: list[str],
               rows: list[dict], mentions: list[dict], quoted: list[tuple[int, int]]) -> dict | None:
    """The referent of a pronoun or a description, through the lead, earlier names and
    earlier speakers and subjects (see `resolve`)."""
    head = words[-1]
    if _opens_article(doc, span[0]) and not pronoun and not head.endswith("s"):
        return _first_subject_after(doc, span[0], wanted, mentions, quoted)
    if not pronoun and words[0] not in DEFINITE:
        return None
    earlier = [m for m in mentions if m["end"] <= span[0] and wanted.fits(doc, m, mentions)
               and span[0] - m["end"] < LOOKBACK_CHARS and not inside(m["start"], quoted)]
    if not pronoun:
        containing = [m for m in earlier if head in m["text"].lower().split()]
        if containing:
            return containing[-1]
        # "The South African archbishop said ... The archbishop added": the one an
        # earlier speaker with the same head word was.
        described = [row["_referent"] for row in rows if row["speaker"] and row["_referent"]
                     and row["_referent"]["label"] is not None and span[0] - row["speaker_start"] < LOOKBACK_CHARS
                     and head_word(row["speaker"]) == head]
        if described:
            return described[-1]
    found, stopped = _antecedent(doc, span[0], wanted, mentions, rows, quoted,
                                 subjects=head != "they", pronoun=head if pronoun else None)
    if found is not None or stopped:
        return found
    return earlier[-1] if earlier and pronoun and wanted.is_person else None


def description(doc, span: tuple[int, int]) -> dict | None:
    """A speaker without a name, as the article describes them ("a spokesman for the
    British Casino Association", "analysts"): a referent that is no mention. Pronouns
    and words that describe nobody give None."""
    words = doc_text(doc)[span[0]:span[1]].lower().split()
    if not words or words[-1] in PERSON_PRONOUNS | THING_PRONOUNS or kind_of(words[-1]) is None:
        return None
    head = tokens_between(doc, *span)[-1]
    # With what follows the head ("for the British Casino Association"), without a
    # relative clause (", which represents the UK industry").
    following = [t for c in head.rights if c.dep_ == "prep" for t in c.subtree
                 if not _in_relative_clause(t, c)]
    following = [t for t in following if not t.is_punct or t.text == ")"]
    end = max([span[1]] + [t.idx + len(t) for t in following])
    return {"start": span[0], "end": end, "text": doc_text(doc)[span[0]:end], "label": None}


def _in_relative_clause(token, top) -> bool:
    """Is `token` inside a relative clause below `top` (`top` being its ancestor)?"""
    while token.i != top.i:
        if token.dep_ == "relcl":
            return True
        token = token.head
    return False


def _plain_description(doc, span: tuple[int, int]) -> bool:
    """ "the firm", "the US airline": an article, modifiers and a head, nothing that
    names an owner or a place ("the UK's spending watchdog" describes someone new)."""
    return not any(t.dep_ == "poss" or t.tag_ == "POS" for t in tokens_between(doc, *span))


def _opens_article(doc, char: int) -> bool:
    return sentence_index(doc)[0][0].end_char > char


def _first_subject_after(doc, char: int, wanted: Kind, mentions: list[dict],
                         quoted: list[tuple[int, int]]) -> dict | None:
    """A news lead describes its speaker ("..., the trade and industry secretary has
    said.", "a senior government figure has warned") and the next sentences name them:
    the first of those whose subject is someone of the wanted kind."""
    sentences, _ = sentence_index(doc)
    following = [s for s in sentences if s.start_char > char][:LEAD_NAMING_SENTENCES]
    for sentence in following:
        found, stopped = _subject_referent(sentence, wanted, mentions, quoted)
        if found is not None or stopped:
            return found if found is not None and found["label"] is not None else None
    return None


def _antecedent(doc, char: int, wanted: Kind, mentions: list[dict], rows: list[dict],
                quoted: list[tuple[int, int]], subjects: bool,
                pronoun: str | None = None) -> tuple[dict | None, bool]:
    """Walk back sentence by sentence to the nearest one that attributed a quote to
    someone of the wanted kind, or (if `subjects`) whose subject is of that kind.
    Sentences whose subject is the same pronoun continue the chain and do not count
    against the distance ("He resisted ... He became ... he said": the one named
    before them). Returns (mention, stopped): stopped is True when that someone has no
    name ("a spokesman said ... he added"), so nothing else should be guessed."""
    current = sentence_of(doc, char)
    for row in reversed(rows):  # "John Tomaney said he hoped ... - something he says will ..."
        if row["speaker_start"] is not None and current.start_char <= row["speaker_start"] < char \
                and _speaker_fits(doc, row, wanted, mentions):
            return row["_referent"], True
    sentences = [sentence for sentence in sentence_index(doc)[0] if sentence.end_char <= char]
    budget = SENTENCES_BACK
    for sentence in reversed(sentences):
        if budget == 0:
            break
        budget -= 1
        for row in reversed(rows):
            in_sentence = row["speaker_start"] is not None and \
                sentence.start_char <= row["speaker_start"] < sentence.end_char
            if in_sentence and _speaker_fits(doc, row, wanted, mentions):
                return row["_referent"], True  # a name, or the description of someone unnamed
        if not subjects:
            continue
        subject = _main_subject(sentence, quoted)
        if subject is not None and pronoun in PERSON_PRONOUNS and subject.lower_ == pronoun:
            budget = min(budget + 1, SENTENCES_BACK)
            continue
        found, stopped = _subject_referent(sentence, wanted, mentions, quoted)
        if found is not None or stopped:
            return found, stopped
        if pronoun in PERSON_PRONOUNS:
            # "One dissenting opinion came from Brian Gammage. He said: ...": the person
            # the sentence before introduced; the first of several ("None more so than
            # Henson, ... the likes of Jonny Wilkinson").
            named = [m for m in mentions if sentence.start_char <= m["start"] < sentence.end_char
                     and not inside(m["start"], quoted) and wanted.fits(doc, m, mentions)]
            if named:
                return named[0], True
    return None, False


def _main_subject(sentence, quoted: list[tuple[int, int]]):
    return next((t for t in sentence if t.dep_ in ("nsubj", "nsubjpass") and t.head.dep_ == "ROOT"
                 and not inside(t.idx, quoted)), None)


def _subject_referent(sentence, wanted: Kind, mentions: list[dict],
                      quoted: list[tuple[int, int]]) -> tuple[dict | None, bool]:
    """The mention a sentence's main subject names, if of the wanted kind; (None, True)
    when the subject is someone of that kind without a name ("a spokesman")."""
    subject = _main_subject(sentence, quoted)
    if subject is None or subject.pos_ == "PRON":
        return None, False
    doc = sentence.doc
    held = [m for m in mentions if m["start"] <= subject.idx < m["end"]]
    if held:
        return (held[0], True) if wanted.fits(doc, held[0], mentions) else (None, False)
    subject_kind = kind_of(subject.lower_)
    if subject_kind is not None and wanted.agrees(subject_kind):
        return description(doc, speaker_span(subject, mentions)), True
    within = [m for m in mentions if wanted.fits(doc, m, mentions) and any(
        m["start"] <= t.idx < m["end"] for t in own_phrase(subject))]
    return (within[0], True) if within else (None, False)


def _speaker_fits(doc, row: dict, wanted: Kind, mentions: list[dict]) -> bool:
    """Can the speaker of an earlier quote be the one `wanted` stands for?"""
    referent = row["_referent"]
    if referent is not None and referent["label"] is not None:
        return wanted.fits(doc, referent, mentions)
    kind = kind_of(head_word(referent["text"] if referent else row["speaker"]))
    return kind is not None and wanted.agrees(kind)


def _is_compound(doc, mention: dict) -> bool:
    tokens = tokens_between(doc, mention["start"], mention["end"])
    return any(t.dep_ == "compound" for t in tokens)
