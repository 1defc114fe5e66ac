"""Regenerate tests/golden/seeds.json from the current cleaning stages.

Run it only after reading the diff it produces: the golden file is the reviewed,
expected output for each seed, and the test fails when the code departs from it.

    .venv/bin/python tests/golden/update_seeds.py
"""

import json
from pathlib import Path

from flows.stages.clean import clean_text
from flows.stages.ingest.discover import discover_inputs
from flows.stages.ingest.read import read_input
from flows.stages.normalise.fields import article_fields

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent / "seeds"


def expected_output() -> dict:
    golden = {}
    for item in discover_inputs([str(SEEDS)]):
        clean = clean_text(read_input(item).text)
        fields = article_fields(clean)
        golden[item.source_uri] = {
            "title": fields["title"],
            "published_date": fields["published_date"] and fields["published_date"].isoformat(),
            "dateline": fields["dateline"],
            "outlet": fields["outlet"],
            "language": fields["language"],
            "word_count": fields["word_count"],
            "paragraphs": clean.paragraphs,
        }
    return golden


if __name__ == "__main__":
    (HERE / "seeds.json").write_text(
        json.dumps(expected_output(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
