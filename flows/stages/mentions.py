"""Named-entity mentions: spaCy's entities, with the spans it reliably gets wrong mended.

Rules, each tested: a trailing possessive "'s" leaves the span; titles and
honorifics leave the front of PERSON spans ("President", "Mr", "Colonel");
leading lower-case words and prefixes leave names ("the Pentagon", "some Sunni
Arabs", "pro-Assad" -> "Pentagon", "Sunni Arabs", "Assad"); a span broken at a
hyphen or an Arabic article ("al-", "al- ") is made whole. Numeric and temporal
entities (DATE, MONEY, CARDINAL, ...) are not named entities and are left out.
"""

from __future__ import annotations

import bisect
import hashlib
import re

from flows.stages.lexicons import words
from flows.stages.parse import doc_text, token_starts
from flows.stages.people import is_first_name, is_person_noun
from schemas.tables import NAMED_LABELS


# Words that open a PERSON span without being part of the name.
TITLES = words("person_titles") | words("name_openers")
_HONORIFIC = r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir|Dame|Lord|Lady)\.?\s+"
HONORIFIC_BEFORE = re.compile(_HONORIFIC + r"$")
HONORIFIC_OPENING = re.compile(_HONORIFIC + r"(?=\S)")
ARABIC_ARTICLE = r"(?:[Aa]l|[Ee]l|[Aa][dnrstz]|[Aa]sh)"
POSSESSIVE = re.compile(r"\s*['’]s?$")
NATIONALITY = re.compile(r"[A-Z][a-z]+(?:an|ese|ish|i)|[A-Z]{2,3}|U\.[SK]\.")
ACRONYM_DEFINITION = re.compile(r"\s*\(([A-Z][A-Za-z&.]{1,9})\)")
# The columns of extract_mentions' rows.
MENTION_COLUMNS = ["mention_id", "article_id", "start", "end", "text", "label", "sentence"]


def mention_id_for(article_id: str, start: int, end: int) -> str:
    return hashlib.sha256(f"newscorpus/mention/{article_id}/{start}/{end}".encode()).hexdigest()[:16]


def extract_mentions(article_id: str, doc, _found: dict | None = None) -> list[dict]:
    """Mention rows for one parsed article, spans mended, sorted by start."""
    text = doc_text(doc)
    spans: list[tuple[int, int, str]] = []
    for entity in doc.ents:
        if entity.label_ not in NAMED_LABELS:
            continue
        label = label_of(text, entity.start_char, entity.end_char, entity.label_)
        span = mend_span(text, entity.start_char, entity.end_char, label)
        if span is not None and not _overlaps(span, spans):
            spans.append((*span, label))
    spans += defined_acronym_uses(text, spans)
    spans += surname_uses(text, spans)
    spans = agree_short_forms(text, appositive_people(doc, text, spans))
    sentence_starts = [sentence.start_char for sentence in doc.sents]
    return [{
        "mention_id": mention_id_for(article_id, start, end),
        "article_id": article_id,
        "start": start,
        "end": end,
        "text": text[start:end],
        "label": label,
        "sentence": bisect.bisect_right(sentence_starts, start) - 1,
    } for start, end, label in sorted(spans)]


def label_of(text: str, start: int, end: int, label: str) -> str:
    """ "Ms Lomax", "Mr Blair": a name with an honorific is a person, whatever the
    model said, whether the honorific is inside its span or just before it."""
    if HONORIFIC_BEFORE.search(text, max(0, start - 8), start) or \
            HONORIFIC_OPENING.match(text[start:end]):
        return "PERSON"
    return label


def defined_acronym_uses(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Uses of an acronym the text defines after a name ("Popular Mobilization Units
    (PMU)") that the model did not tag: each is a mention with the name's label."""
    found: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        definition = ACRONYM_DEFINITION.match(text, end)
        if not definition or label == "PERSON" or not initials_match(definition[1], text[start:end]):
            continue
        for use in re.finditer(rf"(?<![\w.-]){re.escape(definition[1])}(?![\w-])", text):
            if not _overlaps(use.span(), spans + found):
                found.append((use.start(), use.end(), label))
    return found


def surname_uses(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Later uses of a surname the text gave in full ("Ed Balls" ... "Mr Balls said")
    that the model did not tag: each is a PERSON mention."""
    found: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        words = text[start:end].split()
        if label != "PERSON" or len(words) < 2 or len(words[-1]) < 3 or not words[-1][0].isupper():
            continue
        for use in re.finditer(rf"(?<![\w.'’-]){re.escape(words[-1])}(?![\w-])", text[end:]):
            span = (end + use.start(), end + use.end())
            if not _overlaps(span, spans + found):
                found.append((*span, "PERSON"))
    return found


def appositive_people(doc, text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A name that opens with a first name, set beside a noun that only names people, is
    a person, whatever the model said: "The woman's lawyer, Dolores M Troiani,"."""
    starts = token_starts(doc)
    relabelled = []
    for start, end, label in spans:
        if label not in ("ORG", "GPE", "NORP"):
            relabelled.append((start, end, label))
            continue
        head = _span_head(doc, starts, start, end)
        beside = [head.head] if head is not None and head.dep_ == "appos" else []
        beside += [c for c in head.children if c.dep_ == "appos"] if head is not None else []
        first_word = text[start:end].split()[0]
        if is_first_name(first_word) and any(t.pos_ == "NOUN" and is_person_noun(t.lemma_) for t in beside):
            label = "PERSON"  # not "KPMG, Fannie Mae's independent auditor"
        relabelled.append((start, end, label))
    return relabelled


def _span_head(doc, starts: list[int], start: int, end: int):
    """The token of a span whose head lies outside it (`starts`: token_starts(doc))."""
    first = bisect.bisect_left(starts, start)
    if first == len(starts) or starts[first] != start:
        return None
    for token in doc[first:]:  # stop at the span's end, not the document's
        if token.idx >= end:
            return None
        if not (start <= token.head.idx < end) or token.head is token:
            return token
    return None


def agree_short_forms(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """One label for a one-word name throughout its article, where the model wavers
    between PERSON and ORG: a surname of a person named in full ("Campbell" after "Sol
    Campbell") or a name after an honorific is a person; a word that opens or ends an
    organisation's proper name ("Marsh" of "Marsh & McLennan", "Telegraph" of "Daily
    Telegraph"), or that the model called an organisation elsewhere in the article
    ("Novartis"), is that organisation. A word that is both a surname and part of an
    organisation's name ("Ford" beside "Bill Ford" and "Ford Motor") keeps its labels."""
    def words(start: int, end: int) -> list[str]:
        return text[start:end].split()

    # Surnames of names that open with a first name: not "Manchester United".
    surnames = {parts[-1] for parts, label in ((re.split(r"[\s-]+", text[s:e]), label)  # al-Assad
                                               for s, e, label in spans)
                if label == "PERSON" and len(parts) > 1 and is_first_name(parts[0])}
    any_surname = {parts[-1] for parts, label in ((re.split(r"[\s-]+", text[s:e]), label)
                                                  for s, e, label in spans) if label == "PERSON" and len(parts) > 1}
    honoured = {text[s:e] for s, e, label in spans if HONORIFIC_BEFORE.search(text, max(0, s - 8), s)}
    # Only proper names: "Marsh & McLennan", not "Assad regime", which names no firm.
    organisation_words = {w for s, e, label in spans if label == "ORG" and len(words(s, e)) > 1
                          and all(x[0].isupper() or x in ("&", "and", "of") for x in words(s, e))
                          for w in (words(s, e)[0], words(s, e)[-1])}
    called_organisation = {text[s:e] for s, e, label in spans if label == "ORG"}
    agreed = []
    for start, end, label in spans:
        word = text[start:end]
        if label in ("PERSON", "ORG") and " " not in word:
            person = word in surnames or word in honoured
            organisation = word not in any_surname and (
                word in organisation_words or (label == "PERSON" and word in called_organisation))
            if person != organisation:
                label = "PERSON" if person else "ORG"
        agreed.append((start, end, label))
    return agreed


def initials_match(acronym: str, name: str) -> bool:
    """Do the acronym's letters, in order, start words of the name?"""
    letters = [c for c in acronym.upper() if c.isalpha()]
    initials = iter(w[0].upper() for w in re.split(r"[\s-]+", name) if w[:1].isupper())
    return len(letters) >= 2 and all(letter in initials for letter in letters)


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int, str]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end, _label in spans)


def mend_span(text: str, start: int, end: int, label: str) -> tuple[int, int] | None:
    """The corrected (start, end) of an entity span, or None if nothing of a name is left.
    (An honorific makes any span a PERSON: see `label_of`.)"""
    start, end = _join_broken_name(text, start, end)
    end = start + _name_part(text[start:end])
    surface = text[start:end]
    possessive = POSSESSIVE.search(surface)
    if possessive and possessive.start() > 0:
        end = start + possessive.start()
    if label != "WORK_OF_ART":
        start += _leading_non_name(text[start:end])
    if label == "PERSON":
        start = _skip_titles(text, start, end)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in ".)"):
        end -= 1
    if start >= end or not any(c.isupper() for c in text[start:end]):
        return None
    if label == "PERSON" and _is_title(text[start:end]):
        return None  # "Rt Rev Dr": titles and no name
    return start, end


def _name_part(surface: str) -> int:
    """Length of the span before what the model ran on into: an unclosed "(" ("World
    Health Organisation (WHO") or a dash and lower-case words ("Forum - the")."""
    cut = re.search(r"\s\((?![^()]*\))|\s[-–—]\s+(?=[a-z])", surface)
    return cut.start() if cut else len(surface)


def _leading_non_name(surface: str) -> int:
    """Length of what opens the span but is not the name: "the", "some", or a prefix
    such as "pro-" in "pro-Assad" (the name is Assad)."""
    skipped = 0
    while True:
        rest = surface[skipped:]
        prefix = re.match(r"(?:[Pp]ro|[Aa]nti|[Nn]on|[Ee]x)-(?=[A-Z])", rest)
        word = re.match(r"[a-z]+\s+(?=\S)", rest)
        if prefix:
            skipped += prefix.end()
        elif word and not re.match(rf"{ARABIC_ARTICLE}\b", rest):
            skipped += word.end()
        elif the := re.match(r"The\s+(?=\S)", rest):
            skipped += the.end()
        else:
            return skipped


def _join_broken_name(text: str, start: int, end: int) -> tuple[int, int]:
    """Make whole a name cut at its Arabic article: "Tanf" in "al-Tanf" or "al- Tanf",
    "Bashar al" before "-Assad". Other hyphens ("Syria-Iraq border") join two names."""
    before = re.search(rf"\b{ARABIC_ARTICLE}-\s?$", text[max(0, start - 5):start])
    if before:
        start -= len(before.group())
    if re.search(rf"\b{ARABIC_ARTICLE}-?$", text[start:end]):
        after = re.match(r"-?\s?[A-Z][\w'’]*", text[end:end + 40])
        if after:
            end += after.end()
    return start, end


def _is_title(surface: str) -> bool:
    return surface.lower().rstrip(".") in TITLES


def _skip_titles(text: str, start: int, end: int) -> int:
    """Move `start` past leading titles ("Major General", "Mr"), and past a nationality
    or country before them ("Iranian Major General", "US Army Colonel"); keep at
    least one word of the name."""
    position, after_last_title = start, start
    for word in re.finditer(r"([\w.’'-]+)\s+(?=\S)", text[start:end]):
        token = word.group(1).lower().rstrip(".")
        if token in TITLES or word.group(1).lower() in TITLES:
            after_last_title = start + word.end()
        elif not NATIONALITY.fullmatch(word.group(1)):
            break
        position = start + word.end()
    return after_last_title if after_last_title <= position else start
