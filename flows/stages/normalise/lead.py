"""The lead of a news story: the dateline place and outlet written before its first
sentence ("LONDON (Reuters) - ", "London- ", "(AhlulBayt News Agency) - ")."""

from __future__ import annotations

import re

_PLACE_WORD = r"(?:[A-Z][\w.'’]*|de|la|el|al|of|upon)"
# A sentence can open with a capitalised word and a dash too; those words are no place.
NOT_A_PLACE = r"(?!(?:The|A|An|In|On|At|But|And|It|He|She|We|They|This|That|His|Her|Its)\b)"
LEAD = re.compile(
    rf"(?P<place>{NOT_A_PLACE}[A-Z][\w.'’]*(?:[ -]{_PLACE_WORD}){{0,3}})?"
    r"(?:,\s*[A-Z][A-Za-z.]{1,12}(?:\s+\d{1,2})?)?"  # ", June 4" or ", Calif."
    r"\s*(?:\((?P<outlet>[^()]{2,60})\))?"
    r"\s*[-–—]+\s+(?=\S)"
)
# "David Blunkett - who has resigned - built...": a name set off by dashes, no dateline.
APPOSITION = re.compile(r"\s[-–—]+\s[^.!?]{1,150}?\s[-–—]+\s")


def lead_of(paragraph: str) -> tuple[str | None, str | None]:
    """Dateline place and outlet written at the start of the first paragraph."""
    match = LEAD.match(paragraph)
    if not match or not (match["place"] or match["outlet"]):
        return None, None
    place = match["place"]
    if place and not match["outlet"] and not place.isupper() \
            and APPOSITION.match(paragraph, match.end("place")):
        return None, None
    if place and place.isupper():
        place = place.title()
    return place, match["outlet"]
