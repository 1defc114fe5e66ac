"""What every quote rule asks of a parsed article: its sentences, the tokens between
two offsets, and whether an offset is inside a quote."""

from __future__ import annotations

import bisect

from flows.stages.parse import token_starts


def sentence_of(doc, char: int):
    sentences, starts = sentence_index(doc)
    return sentences[max(0, bisect.bisect_right(starts, char) - 1)]


def sentence_index(doc) -> tuple[list, list[int]]:
    """The doc's sentences and their start offsets, computed once per doc (walking
    `doc.sents` visits every token)."""
    if "newscorpus.sentences" not in doc.user_data:
        sentences = list(doc.sents)
        doc.user_data["newscorpus.sentences"] = (sentences, [s.start_char for s in sentences])
    return doc.user_data["newscorpus.sentences"]


def tokens_between(doc, start: int, end: int):
    """The span of tokens that begin at or after `start` and before `end` (character
    offsets); its tokens are made only as they are read."""
    starts = token_starts(doc)
    return doc[bisect.bisect_left(starts, start):bisect.bisect_left(starts, end)]


def inside(char: int, spans: list[tuple[int, int]]) -> bool:
    """Is `char` inside one of the quoted `spans` or on its quotation marks?"""
    return any(start - 1 <= char <= end for start, end in spans)


def overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in spans)
