"""Pandera models of the published tables: the executable form of CONTRACT.md.

Every column is an Arrow-backed pandas dtype, so the Parquet schema of a table is
read straight off its model (see `arrow_schema`): one definition, no drift.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.typing import Series

String = Annotated[pd.ArrowDtype, pyarrow.string()]
Int32 = Annotated[pd.ArrowDtype, pyarrow.int32()]
Float64 = Annotated[pd.ArrowDtype, pyarrow.float64()]
Date = Annotated[pd.ArrowDtype, pyarrow.date32()]
StringList = Annotated[pd.ArrowDtype, pyarrow.list_(pyarrow.string())]

HEX_ID = r"^[0-9a-f]{16}$"
SHA256 = r"^[0-9a-f]{64}$"
SOURCE_STATUSES = ["accepted", "duplicate", "rejected"]
QUOTE_KINDS = ["direct", "partial", "indirect"]
# spaCy's named (not numeric or temporal) entity labels, OntoNotes 5.
NAMED_LABELS = {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
                "WORK_OF_ART", "LAW", "LANGUAGE"}


def _field(description: str, **checks) -> pa.Field:
    return pa.Field(description=description, **checks)


class TableModel(pa.DataFrameModel):
    """Shared configuration: exact column set, contract order, coerce nothing silently."""

    class Config:
        strict = True
        ordered = True


class Articles(TableModel):
    article_id: Series[String] = _field(
        "stable: the same source gives the same id in every run and version",
        unique=True, str_matches=HEX_ID)
    title: Series[String] = _field(
        "headline, when the input has one", nullable=True, str_length={"min_value": 1})
    text: Series[String] = _field(
        "cleaned body text; every offset in every table points into it",
        str_length={"min_value": 1})
    published_date: Series[Date] = _field("publication date, when it can be known", nullable=True)
    outlet: Series[String] = _field(
        "publisher, when known", nullable=True, str_length={"min_value": 1})
    url: Series[String] = _field("original address, when known", nullable=True)
    dateline: Series[String] = _field(
        'place line such as "London", when present', nullable=True, str_length={"min_value": 1})
    language: Series[String] = _field("ISO 639-1 code", str_matches=r"^[a-z]{2}$")
    word_count: Series[Int32] = _field("words in text", ge=1)
    source_uri: Series[String] = _field(
        "the input this row was built from (relative path, or URL)", unique=True)
    content_sha256: Series[String] = _field("sha256 of text", str_matches=SHA256)
    duplicates: Series[Int32] = _field(
        "how many other inputs were folded into this article", ge=0)
    authors: Series[StringList] = _field(
        "the people the input names as its authors, as written (empty when it names none)")
    crawl_date: Series[Date] = _field(
        "when a web archive (WARC) fetched the page, when the input says", nullable=True)
    section: Series[String] = _field(
        "the part of the outlet the article belongs to, as the input names it (a JSON "
        "record's section or category, a page's articleSection, or the folder below the "
        'source folder: "business" for bbc/business/001.txt)', nullable=True,
        str_length={"min_value": 1})
    tags: Series[StringList] = _field(
        "keywords the input gives the article (a record's tags, keywords or topics, a "
        "page's keywords or article:tag), as written; empty when it gives none")


class Sources(TableModel):
    source_uri: Series[String] = _field(
        "path or URL; `path#N` for the N-th record of a multi-record file", unique=True)
    raw_sha256: Series[String] = _field("sha256 of the raw bytes", str_matches=SHA256)
    status: Series[String] = _field(
        "`accepted`, `duplicate` or `rejected`", isin=SOURCE_STATUSES)
    article_id: Series[String] = _field(
        "the article it became or duplicates", nullable=True, str_matches=HEX_ID)
    reason: Series[String] = _field(
        "why duplicate or rejected, readable by a person", nullable=True)
    similarity: Series[Float64] = _field(
        "for near duplicates, the similarity to the kept article",
        nullable=True, in_range={"min_value": 0.0, "max_value": 1.0})

    @pa.dataframe_check(description="rejected rows have a reason and no article")
    def rejected_rows_explain_themselves(cls, df: pd.DataFrame) -> Series[bool]:
        rejected = df["status"] == "rejected"
        return ~rejected | (df["reason"].notna() & df["article_id"].isna())

    @pa.dataframe_check(description="accepted and duplicate rows point to an article")
    def kept_rows_point_to_an_article(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["status"] == "rejected") | df["article_id"].notna()

    @pa.dataframe_check(description="duplicate rows say what they duplicate")
    def duplicates_have_a_reason(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["status"] != "duplicate") | df["reason"].notna()


class SpanTable(TableModel):
    """A table of spans (`start`, `end`, `text`) into articles.text."""

    @pa.dataframe_check(description="start < end")
    def spans_are_not_empty(cls, df: pd.DataFrame) -> Series[bool]:
        return df["start"] < df["end"]


class Mentions(SpanTable):
    mention_id: Series[String] = _field("stable", unique=True, str_matches=HEX_ID)
    article_id: Series[String] = _field("-> articles", str_matches=HEX_ID)
    start: Series[Int32] = _field("span start in articles.text", ge=0)
    end: Series[Int32] = _field("span end in articles.text (exclusive)", ge=1)
    text: Series[String] = _field("equals articles.text[start:end]", str_length={"min_value": 1})
    label: Series[String] = _field("PERSON, ORG, GPE, LOC, NORP, ...", isin=sorted(NAMED_LABELS))
    entity_id: Series[String] = _field("-> entities", str_matches=HEX_ID)
    sentence: Series[Int32] = _field("sentence number in the article, from 0", ge=0)



class Entities(TableModel):
    entity_id: Series[String] = _field(
        "stable across versions for the same entity", unique=True, str_matches=HEX_ID)
    name: Series[String] = _field("canonical (most complete) name", str_length={"min_value": 1})
    label: Series[String] = _field("as in mentions", isin=sorted(NAMED_LABELS))
    aliases: Series[StringList] = _field("every surface form linked to it")
    mentions: Series[Int32] = _field("how many mentions", ge=1)
    articles: Series[Int32] = _field("in how many articles", ge=1)


class Quotes(SpanTable):
    quote_id: Series[String] = _field("stable", unique=True, str_matches=HEX_ID)
    article_id: Series[String] = _field("-> articles", str_matches=HEX_ID)
    start: Series[Int32] = _field("span of the quoted words, without quotation marks", ge=0)
    end: Series[Int32] = _field("span end (exclusive)", ge=1)
    text: Series[String] = _field("equals articles.text[start:end]", str_length={"min_value": 1})
    kind: Series[String] = _field("direct, partial or indirect", isin=QUOTE_KINDS)
    speaker: Series[String] = _field(
        'the speaker as written: "Jeff Davis", "Davis", "he", "the news outlet"', nullable=True)
    speaker_start: Series[Int32] = _field("span of speaker in articles.text", nullable=True, ge=0)
    speaker_end: Series[Int32] = _field("span end of speaker (exclusive)", nullable=True, ge=1)
    speaker_entity_id: Series[String] = _field(
        "-> entities: who the speaker really is", nullable=True, str_matches=HEX_ID)
    speaker_name: Series[String] = _field("that entity's canonical name", nullable=True)
    speaker_description: Series[String] = _field(
        'for a speaker with no name, the words that describe them: "a spokesman for Apple", '
        '"analysts" (also when the quote says "he" or continues their words)', nullable=True)
    cue: Series[String] = _field(
        'the reporting words as written: "said", "told", "according to"', nullable=True)

    @pa.dataframe_check(description="speaker, speaker_start and speaker_end are set together")
    def speaker_span_is_whole(cls, df: pd.DataFrame) -> Series[bool]:
        present = df[["speaker", "speaker_start", "speaker_end"]].notna()
        return present.all(axis=1) | ~present.any(axis=1)

    @pa.dataframe_check(description="a speaker has either an entity or a description, not both")
    def named_or_described(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["speaker_entity_id"].notna() & df["speaker_description"].notna())

    @pa.dataframe_check(description="speaker_name is set exactly when speaker_entity_id is")
    def speaker_name_follows_entity(cls, df: pd.DataFrame) -> Series[bool]:
        return df["speaker_entity_id"].notna() == df["speaker_name"].notna()


MODELS: dict[str, type[TableModel]] = {
    "articles": Articles,
    "sources": Sources,
    "mentions": Mentions,
    "entities": Entities,
    "quotes": Quotes,
}

PRIMARY_KEYS: dict[str, str] = {
    "articles": "article_id",
    "sources": "source_uri",
    "mentions": "mention_id",
    "entities": "entity_id",
    "quotes": "quote_id",
}

# The order of a table's rows. Mentions and quotes come article by article, in reading
# order, so the build can write them as it links them and a reader filtering on
# article_id reads only the row groups that hold it.
ROW_ORDER: dict[str, list[str]] = {name: [key] for name, key in PRIMARY_KEYS.items()} | {
    "mentions": ["article_id", "start", "end", "mention_id"],
    "quotes": ["article_id", "start", "end", "quote_id"],
}


def arrow_schema(model: type[TableModel]) -> pyarrow.Schema:
    """The Parquet schema of a table, read off its Pandera model."""
    columns = model.to_schema().columns
    return pyarrow.schema(
        pyarrow.field(name, column.dtype.type.pyarrow_dtype, nullable=column.nullable,
                      metadata={"description": column.description})
        for name, column in columns.items()
    )


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """`df` as table `name` publishes it: contract columns in order, Arrow dtypes,
    rows in ROW_ORDER, a fresh index."""
    schema = arrow_schema(MODELS[name])
    # Through Python objects: a column that is all nulls may arrive as any dtype.
    table = pyarrow.Table.from_arrays(
        [pyarrow.array(values(df[f.name]), type=f.type) for f in schema], schema=schema)
    table = table.sort_by([(column, "ascending") for column in ROW_ORDER[name]])
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def values(column: pd.Series) -> list:
    """A column as Python values, nulls as None (for an Arrow column, 30 times faster
    than iterating the Series)."""
    if isinstance(column.dtype, pd.ArrowDtype):
        return pyarrow.array(column).to_pylist()
    return column.astype(object).where(column.notna(), None).tolist()
