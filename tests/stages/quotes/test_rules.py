"""Every quote rule on the real sentence it was written for (flows.stages.quotes.rules):
the rule fires inside that sentence, and the quote the extractor makes there is as the
rule's example says. A rule without an example cannot be registered, so a new rule
comes with its test. `referent` is the text of the mention the speaker refers to."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from flows.stages.ingest.discover import InputFile
from flows.stages.mentions import extract_mentions
from flows.stages.parse import parse
from flows.stages.prepare import prepare_shard
from flows.stages.quotes import extract_quotes
from flows.stages.quotes.document import sentence_of
from flows.stages.quotes.rules import RULES, tracing

PROJECT = Path(__file__).resolve().parents[3]
CORPORA = PROJECT.parent / "shared" / "corpora"


def source_path(source: str) -> Path:
    """The file of `source` (a path below the corpora or the project, and for a record
    of a collection, #N after it)."""
    file = source.partition("#")[0]
    if file.startswith("seeds/"):
        return PROJECT / file
    path = CORPORA / file
    if not path.is_file():
        pytest.skip(f"{file} not found in {CORPORA} (../shared/corpora is absent)")
    return path


@cache
def extracted(source: str):
    """(text, doc, quote rows, rules fired) of one article, as the pipeline cleans it."""
    records = prepare_shard([InputFile(source_path(source), source.partition("#")[0])]).records
    text = records.loc[records["source_uri"] == source, "text"].item()
    doc = next(parse([text]))
    with tracing() as fired:
        rows = extract_quotes(source, doc, {"mentions": extract_mentions(source, doc)})
    return text, doc, rows, fired


@pytest.mark.parametrize("example", RULES, ids=[e.rule for e in RULES])
def test_each_rule_fires_on_its_sentence_and_does_what_it_says(example):
    text, doc, rows, fired = extracted(example.source)
    assert example.words in text, f"{example.words!r} is not in {example.source}"
    sentence = sentence_of(doc, text.index(example.words))
    inside = [offset for rule, offset in fired if rule == example.rule
              and offset is not None and sentence.start_char <= offset < sentence.end_char]
    assert inside, f"{example.rule} did not fire in {sentence.text!r}"
    here = [row for row in rows if row["start"] < sentence.end_char and row["end"] > sentence.start_char]
    expected = dict(example.expected)
    not_quoted = expected.pop("not_quoted", None)
    referent = expected.pop("referent", None)
    if not_quoted is not None:
        assert not_quoted in sentence.text and not any(row["text"] == not_quoted for row in here), here
    if expected:
        opening = expected.pop("text", "")
        matching = [row for row in here if row["text"].startswith(opening)
                    and all(row[key] == value for key, value in expected.items())
                    and (referent is None or row["referent_start"] is not None
                         and text[row["referent_start"]:row["referent_end"]] == referent)]
        assert matching, f"no quote in {sentence.text!r} with {example.expected}: " \
                         f"{[(r['kind'], r['speaker'], r['cue'], r['text'][:40]) for r in here]}"


def test_rules_have_one_name_each():
    names = [example.rule for example in RULES]
    assert len(names) == len(set(names)) and len(names) >= 19
