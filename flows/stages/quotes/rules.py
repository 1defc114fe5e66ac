"""Each quote rule beside the real sentence it was written for.

A rule is a function decorated with `@rule(source, words, ...)`: `source` is the
article it was written for (a file of ../shared/corpora or of seeds/, `#N` after a
collection for its N-th record), `words` find the sentence in its cleaned text, and
the keywords say what the extractor makes of it (the quote's `kind`, `speaker` as
written, `cue`; `not_quoted` for words in quotation marks that are no quote;
`referent` for the text of the mention the speaker stands for).
tests/stages/quotes/test_rules.py runs every rule on its article and checks that it
fired inside that sentence and that the result is as stated, so a new rule comes with
its test.

A rule "fires" when it returns something true. While `tracing()` is on, each firing
is recorded with the character offset it fired at; otherwise a rule costs one
context-variable lookup per call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    rule: str
    source: str
    words: str
    expected: dict = field(default_factory=dict)


RULES: list[Example] = []
_fired: ContextVar[list | None] = ContextVar("newscorpus.quotes.fired", default=None)


def rule(source: str, words: str, **expected) -> Callable:
    """Register the decorated function as a rule with its example (see the module)."""
    def register(function: Callable) -> Callable:
        name = function.__name__.strip("_")
        RULES.append(Example(name, source, words, expected))

        @functools.wraps(function)
        def traced(*args, **kwargs):
            result = function(*args, **kwargs)
            fired = _fired.get()
            if fired is not None and result:
                fired.append((name, _offset(result, args)))
            return result

        traced.rule = name
        return traced

    return register


@contextmanager
def tracing() -> Iterator[list[tuple[str, int | None]]]:
    """Record (rule, character offset) of every rule that fires inside the block."""
    fired: list[tuple[str, int | None]] = []
    token = _fired.set(fired)
    try:
        yield fired
    finally:
        _fired.reset(token)


def _offset(result, args: tuple) -> int | None:
    """Where a rule fired: the offset of what it found, else of what it was given."""
    for value in (result, *args):
        if hasattr(value, "start_char"):  # a spaCy span
            return value.start_char
        if hasattr(value, "idx"):  # a spaCy token
            return value.idx
        if hasattr(value, "start") and isinstance(value.start, int):  # a Quote or a Cue
            return value.start
        if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
            return value[0]
        if isinstance(value, int) and not isinstance(value, bool):  # an offset given
            return value
    return None
