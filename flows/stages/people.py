"""What a word or a name says about a person: whether a noun names people ("the
challenger", "the spokeswoman"), and whether a name or a pronoun is a man's or a woman's.

The word lists are the English lexicons of the coreferee package (MIT): person nouns
derived from WordNet 3.0, and first names from public birth registers (US Social
Security Administration and others). They are read as data files, without importing
coreferee, which would register spaCy extensions this project does not use.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata

MALE, FEMALE = "male", "female"
PRONOUN_GENDER = {"he": MALE, "him": MALE, "his": MALE, "she": FEMALE, "her": FEMALE}
HONORIFIC_GENDER = {
    "mr": MALE, "sir": MALE, "lord": MALE, "king": MALE, "prince": MALE, "father": MALE,
    "mrs": FEMALE, "ms": FEMALE, "miss": FEMALE, "dame": FEMALE, "lady": FEMALE,
    "baroness": FEMALE, "queen": FEMALE, "princess": FEMALE,
}
HONORIFIC_BEFORE = re.compile(r"\b([A-Z][a-z]+)\.?\s+$")


@cache
def _lexicon(path: str) -> frozenset[str]:
    distribution = metadata.distribution("coreferee")
    text = distribution.locate_file(f"coreferee/lang/{path}").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_person_noun(word: str) -> bool:
    """Does every sense of this noun name a person ("challenger", "spokesman")?"""
    return word.lower() in _lexicon("en/data/exclusively_person_words.dat")


def is_first_name(name: str) -> bool:
    return name in _lexicon("common/data/female_names.dat") or name in _lexicon("common/data/male_names.dat")


@cache
def first_name_gender(name: str) -> str | None:
    """MALE or FEMALE for a first name only one of the registers gives, else None."""
    female = name in _lexicon("common/data/female_names.dat")
    male = name in _lexicon("common/data/male_names.dat")
    return FEMALE if female and not male else MALE if male and not female else None


def noun_gender(word: str) -> str | None:
    """MALE or FEMALE for a noun that says it ("spokeswoman", "actress", "mother",
    "chairman"), else None ("spokesperson", "minister")."""
    word = word.lower()
    if word in _lexicon("en/data/exclusively_female_words.dat") or word.endswith("woman") or (
            word.endswith("ess") and not word.endswith("ness") and is_person_noun(word)):
        return FEMALE
    if word in _lexicon("en/data/exclusively_male_words.dat") or word == "man" or (
            word.endswith("man") and is_person_noun(word[:-3] + "woman")):
        return MALE
    return None


def name_gender(text: str, start: int, full_name: str) -> str | None:
    """The gender of the person named at `start`: by the honorific written before it
    ("Dame Barbara Castle", "Mr Kruger"), else by the first name of the fullest form
    of the name in the article ("Barbara" of "Barbara Castle" for "Castle")."""
    honorific = HONORIFIC_BEFORE.search(text, max(0, start - 12), start)
    if honorific and honorific[1].lower() in HONORIFIC_GENDER:
        return HONORIFIC_GENDER[honorific[1].lower()]
    words = full_name.split()
    return first_name_gender(words[0]) if len(words) > 1 else None
