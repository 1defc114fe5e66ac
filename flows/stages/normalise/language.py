"""Normalise: the language of an article (py3langid's model, made faster).

Only ISO 639-1 codes are answered, as the contract's `language` column holds; a
record too short or numeric to tell takes its collection's language (flows.stages.prepare).
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

NOT_NEWS_LANGUAGES = {"eo", "la", "vo", "wa"}  # Esperanto, Latin, Volapük, Walloon


# py3langid's automaton (its model file as pinned) forgets where it started after this many
# bytes: from any state, the same 6 bytes lead to the same state, which
# tests/stages/test_normalise.py proves for the installed model. So the state after each byte of
# a text is the state reached from the start by the 6 bytes ending there.
LANGID_WINDOW = 6


class WindowedIdentifier(LanguageIdentifier):
    """py3langid's identifier, made faster and giving the same scores: the automaton is
    walked over every window of a text at once in numpy instead of byte by byte in
    Python, features are counted in the order py3langid counts them, and their weights
    are read from a row-major float32 copy of the model's column-major float16 table
    (the float32 values py3langid's product converts them to)."""

    __slots__ = ("_next_rows", "_outputs", "_weights")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        moves = np.frombuffer(self.tk_nextmove, dtype=np.dtype(self.tk_nextmove.typecode))
        # For each (row, byte): the row of the next state and the feature it outputs,
        # so each step of the walk is one lookup.
        self._next_rows = np.asarray(self._rowbase, dtype=np.uint32)[moves]
        self._outputs = np.asarray(self.tk_output, dtype=np.int32)[moves]
        self._weights = np.ascontiguousarray(self.nb_ptc, dtype=np.float32)

    def set_languages(self, langs=None):
        super().set_languages(langs)
        self._weights = np.ascontiguousarray(self.nb_ptc, dtype=np.float32)

    def _raw_score(self, text: bytes):
        data = np.frombuffer(text, dtype=np.uint8).astype(np.uint32)
        rows = np.full(len(data), self._rowbase[0], dtype=np.uint32)
        for back in range(min(LANGID_WINDOW, len(data)) - 1, -1, -1):
            # Position i reads byte i - back; positions before the text's start stay at the start state.
            moves = rows[back:] + data[:len(data) - back]
            rows[back:] = self._next_rows[moves]
        features = self._outputs[moves] if len(data) else data
        visits = Counter(features[features >= 0].tolist())
        if not visits:
            return super()._raw_score(b"")  # py3langid's score of a featureless text
        return self._sparse_score(visits, self._weights)


@cache
def _language_identifier() -> WindowedIdentifier:
    identifier = WindowedIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # Only languages with an ISO 639-1 code, as the contract's `language` column holds.
    # The full model also answers three-letter codes ("pcm" for 1,022 of the 19,043
    # Reuters wires, tables of figures mostly), which would fail validation. Constructed
    # and classical languages, and Walloon, are left out: no news is written in them,
    # yet they took 189 Reuters wires that are English.
    identifier.set_languages([code for code in identifier.nb_classes
                              if len(code) == 2 and code not in NOT_NEWS_LANGUAGES])
    return identifier


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (langid.py model)."""
    return language_guess(text)[0]


def language_guess(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the text's language."""
    language, probability = _language_identifier().classify(text[:5000])
    return language, float(probability)
