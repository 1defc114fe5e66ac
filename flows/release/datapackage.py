"""The release's datapackage.json: a Frictionless Data Package descriptor of every
published file, so `frictionless validate datapackage.json` checks a release with
no newscorpus code: types, required values, keys, foreign keys, bytes and sha256.

Everything is derived from the Pandera models (through `arrow_schema`) and the
manifest's file facts, so the descriptor cannot drift from the data, and it holds
no clock time, so the same release gives the same descriptor.

Written to Data Package v1 (no `$schema`), which every Frictionless tool reads:
- each CSV is a tabular resource with a Table Schema; list columns are JSON arrays
  in the CSV, so they are typed "array", which parses the cell as JSON and fails
  on anything that is not an array (arrayItem, read by frictionless, also checks
  that the items are strings);
- each Parquet file is a plain file resource checked by bytes and sha256 only:
  frictionless 5.21 reads Parquet through pandas, which turns list columns into
  numpy arrays its "array" type rejects, and it computes no bytes or hash for a
  Parquet it reads as a table, so a declared `bytes` would always fail. `"type":
  "file"` is what makes frictionless read it as bytes; v1 allows the extra
  property (the v2 profile would not: its resource `type` may only be "table").
  The Parquet files carry their own Arrow schema, with the same columns.
"""

from __future__ import annotations

import pyarrow

from flows.release.card import ROWS
from schemas import MODELS, PRIMARY_KEYS, arrow_schema

# The CSV format of flows.release.writer.TableWriter: RFC 4180 with CRLF line ends.
CSV_DIALECT = {"delimiter": ",", "doubleQuote": True, "header": True,
               "lineTerminator": "\r\n", "quoteChar": '"'}

# (column, referenced table, referenced column): the keys schemas/release.py checks.
FOREIGN_KEYS = {
    "articles": [("source_uri", "sources", "source_uri")],
    "sources": [("article_id", "articles", "article_id")],
    "mentions": [("article_id", "articles", "article_id"), ("entity_id", "entities", "entity_id")],
    "quotes": [("article_id", "articles", "article_id"),
               ("speaker_entity_id", "entities", "entity_id")],
}

DESCRIPTION = (
    "News articles, the named entities they mention and the quotations they attribute "
    "(who said what), built by the newscorpus pipeline. Every span is a pair of character "
    "offsets into articles.text. Each table is published twice with the same rows: "
    "csv/<table>.csv (described here with its Table Schema) and <table>.parquet.")

LICENCE = {
    "path": "README.md",
    "title": "The article texts, and the spans quoted from them, remain their publishers' "
             "and come under the terms of the inputs this release was built from: see "
             "README.md. The MIT licence of the newscorpus code does not cover them.",
}

# Pandera check name -> Table Schema constraints, from the check's statistics. A check
# not listed raises KeyError, so a new kind of check gets a deliberate mapping.
CONSTRAINTS = {
    "str_matches": lambda s: {"pattern": s["pattern"].removeprefix("^").removesuffix("$")},
    "str_length": lambda s: {k: s[v] for k, v in (("minLength", "min_value"),
                                                  ("maxLength", "max_value")) if s[v] is not None},
    "isin": lambda s: {"enum": list(s["allowed_values"])},
    "greater_than_or_equal_to": lambda s: {"minimum": s["min_value"]},
    "in_range": lambda s: {"minimum": s["min_value"], "maximum": s["max_value"]},
}


def datapackage(manifest_files: dict[str, dict], counts: dict[str, int], version: str) -> dict:
    """The descriptor of a release holding the tables in `counts`, whose files
    (`csv/<table>.csv`, `<table>.parquet`) have the sha256 and bytes in `manifest_files`."""
    tables = [name for name in MODELS if name in counts]
    return {
        "name": "newscorpus",
        "version": version.removeprefix("v"),  # the spec asks for a semantic version
        "title": f"newscorpus {version}",
        "description": DESCRIPTION,
        "licenses": [LICENCE],
        "keywords": ["news", "named entities", "quotations", "NLP"],
        "resources": [csv_resource(name, tables, manifest_files, counts[name]) for name in tables]
                     + [parquet_resource(name, manifest_files) for name in tables],
    }


def csv_resource(name: str, tables: list[str], files: dict[str, dict], rows: int) -> dict:
    path = f"csv/{name}.csv"
    return {
        "name": name,
        "profile": "tabular-data-resource",
        "path": path,
        "title": f"{name} (CSV)",
        "description": ROWS[name],
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": CSV_DIALECT,
        "schema": table_schema(name, tables),
        "rows": rows,  # not in the spec; frictionless checks it against the file
        **file_facts(files[path]),
    }


def parquet_resource(name: str, files: dict[str, dict]) -> dict:
    path = f"{name}.parquet"
    return {
        "name": f"{name}-parquet",
        "type": "file",
        "path": path,
        "title": f"{name} (Parquet)",
        "description": f"The rows of `{name}` in Parquet (zstd), with its own Arrow schema.",
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        **file_facts(files[path]),
    }


def file_facts(facts: dict) -> dict:
    return {"bytes": facts["bytes"], "hash": f"sha256:{facts['sha256']}"}


def table_schema(name: str, tables: list[str]) -> dict:
    columns = MODELS[name].to_schema().columns
    schema = {
        "fields": [field(f, columns[f.name]) for f in arrow_schema(MODELS[name])],
        "primaryKey": [PRIMARY_KEYS[name]],
    }
    foreign_keys = [{"fields": [column], "reference": {"resource": table, "fields": [key]}}
                    for column, table, key in FOREIGN_KEYS.get(name, []) if table in tables]
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return schema


def field(arrow_field: pyarrow.Field, column) -> dict:
    """A Table Schema field for one column (`column`, its Pandera form, has the checks)."""
    constraints = {"required": True} if not arrow_field.nullable else {}
    if column.unique:
        constraints["unique"] = True
    for check in column.checks:
        constraints |= CONSTRAINTS[check.name](check.statistics)
    described = {
        "name": arrow_field.name,
        "description": arrow_field.metadata[b"description"].decode("utf-8"),
        **field_type(arrow_field.type),
    }
    return described | {"constraints": constraints} if constraints else described


def field_type(arrow_type: pyarrow.DataType) -> dict:
    if pyarrow.types.is_list(arrow_type):
        return {"type": "array", "arrayItem": field_type(arrow_type.value_type)}
    types = pyarrow.types
    for is_type, name in ((types.is_string, "string"), (types.is_integer, "integer"),
                          (types.is_floating, "number"), (types.is_date, "date")):
        if is_type(arrow_type):
            return {"type": name}
    raise ValueError(f"no Table Schema type for Arrow type {arrow_type}")
