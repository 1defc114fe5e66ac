"""The release's dataset card, README.md: what the files hold, where they came from,
how good they are (as measured), and how to check and load them.

Rendered from the manifest and the tables alone, so it is as deterministic as the data.
"""

from __future__ import annotations


import pandas as pd

from flows.release.measured import blind_quotes, quote_sets
from flows.stages.prepare import reason_kind
from schemas import MODELS, arrow_schema

DEFAULT_AUTHOR = "newscorpus contributors"
ROWS = {
    "articles": "one row per distinct article",
    "sources": "one row per input file: accepted, duplicate or rejected, and why",
    "mentions": "one row per named-entity mention in an article's text",
    "entities": "one row per canonical entity (a person, organisation, place, ...)",
    "quotes": "one row per quotation: direct, partial or indirect, with its speaker",
}


KNOWN_LIMITS = [
    "Entities and quotes come from spaCy's small English model and hand-written rules: "
    "see the measured quality above. Labels are weakest for works of art, products and "
    "events.",
    "Speakers are resolved within one article. A speaker the article never names has no "
    "entity; the words that describe them (\"a spokesman for the British Casino "
    "Association\") are in `speaker_description`, also for the quotes that say \"he\" or "
    "continue their words.",
    "Entity ids are a hash of label and canonical name: an entity's id changes when a "
    "more complete name for it appears in a later release.",
    "Articles in other languages than the model's are kept, but get no mentions or quotes.",
    "Duplicates are found by exact (normalised) text and, for the same story with small "
    "edits, by the share of 5-word shingles two articles have in common (MinHash, "
    "`near_duplicate_threshold` in `manifest.json`); versions of a story that changed more stay "
    "separate articles.",
]


def render_card(manifest: dict, tables: dict[str, pd.DataFrame], plots: list[dict] = (),
                checks: dict | None = None) -> str:
    """The card; `plots` as written by flows.release.plots, `checks` the quality report's summary."""
    sections = [
        _heading(manifest),
        _contents(manifest),
        _sources(tables["sources"], tables["articles"], manifest),
        _plots(plots),
        _quality(manifest),
        _checks(manifest, checks),
        _limits(),
        _provenance(manifest),
        _use(manifest),
        _licence(manifest),
        _columns(manifest),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _heading(manifest: dict) -> str:
    previous = manifest.get("previous_version")
    return "\n".join([
        f"# newscorpus {manifest['version']}",
        "",
        "News articles, the named entities they mention and the quotations they attribute "
        "(who said what), built by the newscorpus pipeline. Every span is a pair of "
        "character offsets into `articles.text`, so each row can be checked against the "
        "text it came from.",
        "",
        f"Previous release: {previous}." if previous else "This is the first release.",
    ])


def _contents(manifest: dict) -> str:
    lines = ["## Contents", "", "| table | rows | each row is |", "|---|---:|---|"]
    for name in sorted(manifest["counts"]):
        lines.append(f"| `{name}` | {manifest['counts'][name]:,} | {ROWS.get(name, '')} |")
    lines += ["", "Each table is in `<table>.parquet` (zstd) and `csv/<table>.csv` (UTF-8, "
                  "RFC 4180; lists as JSON arrays). Rows are sorted by key; the same inputs "
                  "and code give byte-identical files."]
    return "\n".join(lines)


READ_AS = {"text records": "plain texts", "body records": "JSON records", "html records": "web pages"}


def _sources(sources: pd.DataFrame, articles: pd.DataFrame, manifest: dict) -> str:
    status = sources["status"].value_counts()
    collections = sources["source_uri"].map(lambda uri: uri.split("/")[0]).value_counts()
    lines = ["## Inputs", "",
             "The pipeline reads plain-text articles (with an optional headline line), web "
             "pages, JSON Lines and JSON arrays of article records, and WARC archives, any of "
             "them gzip-compressed, from the folders, files and globs its run was given. Each "
             "input's path relative to the parent of its folder is its `source_uri`, with "
             "`#N` for the N-th record of a file that holds several. Inputs by top folder:", ""]
    lines += [f"- `{name}`: {count:,}" for name, count in
              sorted(collections.items(), key=lambda item: (-item[1], item[0]))]
    read = manifest.get("stages", {}).get("ingest", {})
    kinds = [f"{read[key]:,} {name}" for key, name in READ_AS.items() if read.get(key)]
    lines += ["", ", ".join(f"{int(status.get(s, 0)):,} {s}" for s in ("accepted", "duplicate", "rejected"))
              + f" of {len(sources):,} inputs" + (f" (read as {', '.join(kinds)})." if kinds else ".")]
    languages = articles["language"].value_counts()
    analysed = manifest.get("model", {}).get("language")
    others = int(len(articles) - languages.get(analysed, 0)) if analysed else 0
    if len(languages):
        lines += ["", "Languages of the articles (detected): " + ", ".join(
            f"{code} {count:,}" for code, count in sorted(languages.items(), key=lambda i: (-i[1], i[0]))) + "."
                  + (f" The {others:,} not in `{analysed}`, the model's language, are kept but have "
                     "no mentions or quotes." if others else "")]
    rejected = sources["reason"][sources["status"] == "rejected"].dropna()
    if len(rejected):
        lines += ["", "Rejected, by reason:", ""]
        for kind, count in sorted(rejected.map(reason_kind).value_counts().items(),
                                  key=lambda item: (-item[1], item[0])):
            lines.append(f"- {kind}: {count:,}")
    return "\n".join(lines)


def _quality(manifest: dict) -> str | None:
    quality = manifest.get("quality")
    if not quality:
        return None
    mentions = quality["mentions"]
    blind_key, sets = blind_quotes(quality), quote_sets(quality)
    blind = quality[blind_key]
    development = [quality[key]["coverage 30%"] for key, _ in sets if key != blind_key]
    model = manifest.get("model", {})
    used = f"{model.get('name')} {model.get('version')}"
    lines = [
        "## Measured quality",
        "",
        f"Scored against hand-made annotations of BBC News articles (the gold files in the "
        f"newscorpus repository), on a build of those articles with this release's code "
        f"and {quality['model']}:",
        "",
        "| what | gold | precision | recall | F1 |",
        "|---|---|---:|---:|---:|",
        _row("entity mention spans", _gold(mentions, "mentions"), mentions["span"]),
        _row("mention spans and labels", _gold(mentions, "mentions"), mentions["typed"]),
        _row("entity merging (B³)", _gold(mentions, "mentions"), mentions["entity merge"]["b_cubed"]),
        *(_row(f"quotes, {name}", _gold(quality[key], "quotes"), quality[key]["coverage 30%"]["quotes"])
          for key, name in sets),
        "",
        f"A quote counts as found when the predicted span covers at least 30% of the gold "
        f"span (at 80%: F1 {blind['coverage 80%']['quotes']['f1']:.3f} on the blind set). Of "
        f"the quotes found in the blind set, the speaker is the right person (or, for "
        f"someone unnamed, described as the gold describes them) for "
        f"{blind['coverage 30%']['speaker accuracy']:.1%}, and the reporting words are right "
        f"for {blind['coverage 30%']['cue accuracy']:.1%}; on the development sets, "
        f"{_range(d['speaker accuracy'] for d in development)} and "
        f"{_range(d['cue accuracy'] for d in development)}. The rules were written looking at "
        f"the errors on the tuning and development sets; nobody looked at the blind set's "
        f"articles or errors while writing them, so its figures are the ones to expect on "
        f"other news.",
    ]
    if model and used != quality["model"]:
        lines += ["", f"This release was built with {used}, not the measured model: its "
                      f"quality may differ."]
    return "\n".join(lines)


def _range(values) -> str:
    values = sorted(values)
    return f"{values[0]:.1%} to {values[-1]:.1%}"


def _gold(scores: dict, items: str) -> str:
    return f"{scores['gold ' + items]} {items} in {scores['articles']} articles"


def _row(what: str, gold: str, prf: dict) -> str:
    return f"| {what} | {gold} | {prf['precision']:.3f} | {prf['recall']:.3f} | {prf['f1']:.3f} |"


def _plots(plots: list[dict]) -> str | None:
    if not plots:
        return None
    lines = ["## At a glance"]
    for plot in plots:
        lines += ["", f"![{plot['title']}]({plot['path']})", "", f"*{plot['title']}.* {plot['alt']}"]
    return "\n".join(lines)


def _checks(manifest: dict, checks: dict | None) -> str | None:
    if checks is None:
        return None
    failed = checks["failed"]
    validated = "Every table passed the contract's Pandera schemas and invariants (keys " \
                "unique, foreign keys resolve, every span equals its text) before publishing. " \
        if "validate" in manifest.get("stages", {}) else ""
    lines = ["## Checks on this release", "",
             f"{validated}{checks['passed']} of {checks['expectations']} Great Expectations "
             "checks passed; the report is [`quality/index.html`](quality/index.html) (every "
             "check, what it expects and why, what was observed), the results "
             "`quality/results.json`."]
    if failed:
        lines += ["", "Warnings (not blocking):", ""]
        lines += [f"- {f['table']}.{f['column'] or '*'}: {f['expectation']} (observed {f['observed']})"
                  for f in failed]
    return "\n".join(lines)


def _limits() -> str:
    return "\n".join(["## Known limits", ""] + [f"- {limit}" for limit in KNOWN_LIMITS])


def _licence(manifest: dict) -> str:
    return "\n".join([
        "## Licence and citation",
        "",
        "The newscorpus code is MIT-licensed. The article texts, and the spans quoted from "
        "them, remain their publishers' and come under the terms of the inputs this "
        "release was built from; check those terms before redistributing this release.",
        "",
        "```bibtex",
        *_bibtex(manifest),
        "```",
    ])


def _bibtex(manifest: dict) -> list[str]:
    """A @misc entry with what a citation manager needs: author, title, version, year,
    URL (the last two when the build knew them: see provenance.citation)."""
    version = manifest["version"]
    citation = manifest.get("citation", {})
    fields = [("author", f"{{{citation.get('author', DEFAULT_AUTHOR)}}}"),
              ("title", f"{{newscorpus: articles, entity mentions and attributed quotes, release {version}}}"),
              ("version", f"{{{version.removeprefix('v')}}}")]
    fields += [(name, f"{{{citation[name]}}}") for name in ("year", "url") if citation.get(name)]
    fields.append(("note", "{Built with the newscorpus pipeline; see manifest.json for inputs and code version}"))
    return ([f"@misc{{newscorpus_{version.replace('.', '_')},"]
            + [f"  {name:<7}= {value}," for name, value in fields] + ["}"])


def _provenance(manifest: dict) -> str:
    code = manifest.get("code_version", {})
    model = manifest.get("model", {})
    lines = ["## Provenance", ""]
    if "input_snapshot_sha256" in manifest:
        lines.append(f"- inputs: {manifest['inputs']:,} files, snapshot sha256 "
                     f"`{manifest['input_snapshot_sha256']}` (of every path and its bytes' sha256)")
    if code:
        lines.append(f"- code: newscorpus {code['newscorpus']}, pipeline sources sha256 "
                     f"`{code['source_sha256']}`")
    if model:
        lines.append(f"- model: {model['name']} {model['version']} (spaCy {model['spacy_version']})")
    lines.append("- `manifest.json` holds all of this, every stage's counts and every file's "
                 "sha256 and size.")
    return "\n".join(lines)


def _use(manifest: dict) -> str:
    return "\n".join([
        "## Check and load",
        "",
        "```sh",
        "sha256sum -c SHA256SUMS",
        "```",
        "",
        "```python",
        "import pandas as pd",
        'quotes = pd.read_parquet("quotes.parquet")',
        'articles = pd.read_parquet("articles.parquet")',
        "```",
        "",
        "```sql",
        "-- DuckDB: who is quoted most",
        "SELECT speaker_name, count(*) AS quotes FROM 'quotes.parquet'",
        "WHERE speaker_name IS NOT NULL GROUP BY ALL ORDER BY quotes DESC LIMIT 10;",
        "```",
    ])


def _columns(manifest: dict) -> str:
    lines = ["## Columns"]
    for name in sorted(manifest["counts"]):
        lines += ["", f"### {name}", "", "| column | type | meaning |", "|---|---|---|"]
        for field in arrow_schema(MODELS[name]):
            meaning = (field.metadata or {}).get(b"description", b"").decode("utf-8")
            null = ", may be null" if field.nullable else ""
            lines.append(f"| `{field.name}` | {field.type}{null} | {meaning} |")
    return "\n".join(lines)
