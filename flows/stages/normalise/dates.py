"""Publication dates as news pages write them.

Numeric dates are ambiguous ("04/06/2017" is 4 June or April 6). A weekday written
next to the date settles it: only one reading falls on that day. Without a weekday
an ambiguous date is left unknown rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {name: number for number, names in enumerate([
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
], start=1) for name in names}
WEEKDAYS = {name: number for number, names in enumerate([
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"), ("thursday", "thu", "thur", "thurs"),
    ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun"),
]) for name in names}

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_TIME = r"(?:[,\s]+(?:at\s+)?\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?(?:\s*\(?[A-Z]{2,5}\)?)?)?"
DATE = re.compile(
    rf"(?:(?P<weekday>{_WEEKDAY})\.?,?\s+)?(?:"
    rf"(?P<n1>\d{{1,2}})[/.-](?P<n2>\d{{1,2}})[/.-](?P<ny>\d{{4}})"
    rf"|(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})"
    rf"|(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<dm>{_MONTH})\.?,?\s+(?P<dy>\d{{4}})"
    rf"|(?P<mm>{_MONTH})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}})"
    rf"){_TIME}",
    re.IGNORECASE,
)
DATE_LINE = re.compile(rf"(?:(?:published|updated|posted|date)\s*:?\s*)?{DATE.pattern}\s*",
                       re.IGNORECASE)


def is_date_line(paragraph: str) -> bool:
    """A header line that holds a date and nothing else ("Sunday 04/06/2017")."""
    return len(paragraph) <= 80 and DATE_LINE.fullmatch(paragraph) is not None


def parse_date(text: str) -> dt.date | None:
    """The first date written in `text`, or None when there is none or it is ambiguous."""
    for match in DATE.finditer(text):
        found = _interpret(match)
        if found is not None:
            return found
    return None


def leading_date(text: str) -> dt.date | None:
    """The date `text` opens with ("June 4, 2017 - The army..."), if any."""
    match = DATE.match(text)
    return _interpret(match) if match else None


def _interpret(match: re.Match[str]) -> dt.date | None:
    groups = match.groupdict()
    weekday = WEEKDAYS.get((groups["weekday"] or "").lower())
    if groups["iy"]:
        candidates = [_date(groups["iy"], groups["im"], groups["id"])]
    elif groups["dy"]:
        candidates = [_date(groups["dy"], MONTHS[groups["dm"].lower()], groups["dd"])]
    elif groups["my"]:
        candidates = [_date(groups["my"], MONTHS[groups["mm"].lower()], groups["md"])]
    else:
        year, first, second = groups["ny"], groups["n1"], groups["n2"]
        candidates = list({_date(year, second, first), _date(year, first, second)})
    candidates = [c for c in candidates if c is not None]
    if weekday is not None:
        candidates = [c for c in candidates if c.weekday() == weekday]
    return candidates[0] if len(candidates) == 1 else None


def _date(year: str | int, month: str | int, day: str | int) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
