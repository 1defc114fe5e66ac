"""Who a word can stand for: the kind of someone a pronoun or a description's head
word names (a person, of a gender, one or several; an organisation or a place), and
whether a named mention is of that kind."""

from __future__ import annotations

from dataclasses import dataclass

from flows.stages.lexicons import words
from flows.stages.parse import doc_text
from flows.stages.people import PRONOUN_GENDER, is_person_noun, name_gender, noun_gender

PERSON_PRONOUNS = {"he", "she", "him", "her", "i", "we"}
THING_PRONOUNS = {"it", "they"}
PERSON_NOUNS = words("person_titles") | words("person_nouns")
ORGANISATION_NOUNS = words("organisation_nouns")
# Heads that stand for any organisation named before ("the firm", "the group").
GENERIC_ORGANISATION_NOUNS = words("generic_organisation_nouns")
# What an organisation speaks through: "the report said", "a statement from X read".
DOCUMENT_NOUNS = words("document_nouns")
ORGANISATION_KINDS = {"ORG", "GPE"}


@dataclass(frozen=True)
class Kind:
    """Who a pronoun or a description can stand for: entity labels, and for "he" or
    "she" a gender that the named person must not contradict; whether it is one
    person or several ("he" is not "PC owning friends"), when the words say."""
    labels: frozenset[str]
    gender: str | None = None
    plural: bool | None = None

    def agrees(self, other: "Kind") -> bool:
        """Can a description of kind `other` be who this kind stands for?"""
        same_gender = self.gender is None or other.gender in (None, self.gender)
        same_number = self.plural is None or other.plural in (None, self.plural)
        return other.labels == self.labels and same_gender and same_number

    def fits(self, doc, mention: dict, mentions: list[dict]) -> bool:
        if mention["label"] not in self.labels:
            return False
        return self.gender is None or mention_gender(doc, mention, mentions) in (None, self.gender)

    @property
    def is_person(self) -> bool:
        return self.labels == PERSON_KIND.labels


PERSON_KIND = Kind(frozenset({"PERSON"}))
ORGANISATION_KIND = Kind(frozenset(ORGANISATION_KINDS))


def kind_of(head: str) -> Kind | None:
    """Who a pronoun or a description with this head word refers to."""
    if head in PERSON_PRONOUNS:
        return Kind(PERSON_KIND.labels, PRONOUN_GENDER.get(head), False if head in PRONOUN_GENDER else None)
    if head in PERSON_NOUNS or is_person_noun(head):
        return Kind(PERSON_KIND.labels, noun_gender(head), plural=False)
    if head in THING_PRONOUNS or head in ORGANISATION_NOUNS or head in DOCUMENT_NOUNS:
        return ORGANISATION_KIND
    if head.endswith("s") and (head[:-1] in PERSON_NOUNS or is_person_noun(head[:-1])):
        return Kind(PERSON_KIND.labels, plural=True)  # "analysts", "campaigners"
    return None


def head_word(phrase: str) -> str:
    """The head of a description as the speaker surface gives it: its last word, or
    the word before a following "for"/"of" phrase ("a spokesman for Apple")."""
    phrase_words = phrase.lower().split()
    for i, word in enumerate(phrase_words[1:], 1):
        if word in ("for", "of", "at", "from", "in", "with"):
            return phrase_words[i - 1]
    return phrase_words[-1]


def mention_gender(doc, mention: dict, mentions: list[dict]) -> str | None:
    """The gender a PERSON mention's honorific or first name gives (see flows.stages.people);
    a surname alone takes the first name of its fullest form in the article."""
    genders = doc.user_data.setdefault("newscorpus.genders", {})
    key = (mention["start"], mention["end"])
    if key not in genders:
        surname = mention["text"].split()[-1]
        fuller = max((m["text"] for m in mentions if m["label"] == "PERSON"
                      and m["text"].split()[-1] == surname), key=lambda t: len(t.split()),
                     default=mention["text"])
        genders[key] = name_gender(doc_text(doc), mention["start"], fuller)
    return genders[key]
