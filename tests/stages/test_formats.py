"""Inputs as collections come: Reuters-21578 JSON as is, JSON Lines with news-please
and CC-News field names, JSON arrays, gzip, web pages and WARC archives (made here
with warcio from real pages), and the damaged ones among them."""

from __future__ import annotations

import gzip
import io
import json
import shutil

import pandas as pd
import pytest

from flows.stages.ingest.decode import MIN_WORDS
from flows.stages.ingest.discover import discover_inputs
from flows.stages.text import count_words
from flows.stages.prepare import prepare_shard
from tests.helpers import corpus

BBC_FILES = ["business/001.txt", "politics/012.txt", "tech/100.txt"]


def records(*sources, fields=None) -> pd.DataFrame:
    from flows.stages.ingest.formats import field_keys

    return prepare_shard(discover_inputs([str(s) for s in sources]), field_keys(fields)).records


def by_uri(table, uri: str):
    rows = table[table["source_uri"] == uri]
    assert len(rows) == 1, (uri, list(table["source_uri"])[:5])
    return rows.iloc[0]


def bbc_article(bbc, name: str) -> tuple[str, str]:
    """(title, body) of a real BBC article file: first line, then the rest."""
    title, _, body = (bbc / name).read_text(encoding="utf-8").partition("\n")
    return title.strip(), body.strip()


def test_reuters_21578_loads_as_it_is():
    path = corpus("reuters21578") / "json-data" / "reut2-000.json"
    table = records(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert list(table["source_uri"]) == [f"json-data/reut2-000.json#{n}" for n in range(1, len(raw) + 1)]
    first = by_uri(table, "json-data/reut2-000.json#1")
    assert (first["title"], first["published_date"].isoformat(), first["dateline"]) == (
        "BAHIA COCOA REVIEW", "1987-02-26", "Salvador")
    assert first["text"].startswith("Showers continued throughout the week in the Bahia cocoa zone")
    assert "\n\n" in first["text"]  # indented lines open paragraphs
    assert not first["text"].endswith("Reuter")  # the agency's sign-off
    assert "&lt;" not in "".join(table["text"].dropna())
    without_body = [n for n, item in enumerate(raw, start=1) if not item.get("body")]
    for n in without_body:
        assert by_uri(table, f"json-data/reut2-000.json#{n}")["reason"].startswith("no article text in the record")
    assert table["reason"].isna().sum() > 850
    # One-line notices ("Qtly div 35 cts vs 35 cts prior / Payable March 31 ...").
    notices = [n for n, item in enumerate(raw, start=1)
               if item.get("body") and count_words(item["body"]) < MIN_WORDS]
    assert len(notices) > 10
    for n in notices:
        assert by_uri(table, f"json-data/reut2-000.json#{n}")["reason"].startswith("too short to be an article: ")


def news_please(bbc, name: str, n: int) -> dict:
    title, body = bbc_article(bbc, name)
    return {"title": title, "maintext": body, "date_publish": f"2004-03-{n:02d} 10:00:00",
            "url": f"https://news.example.org/{n}", "source_domain": "news.example.org",
            "authors": ["Jane Doe", "John Roe"], "language": "en"}


def test_json_lines_with_news_please_fields_and_a_broken_line(bbc, tmp_path):
    lines = [json.dumps(news_please(bbc, name, n)) for n, name in enumerate(BBC_FILES, start=1)]
    lines.insert(1, '{"title": "cut off", "maintext": "The rest of this line was lo')
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = records(tmp_path / "feed.jsonl")
    assert list(table["source_uri"]) == [f"{tmp_path.name}/feed.jsonl#{n}" for n in range(1, 5)]
    assert by_uri(table, f"{tmp_path.name}/feed.jsonl#2")["reason"].startswith("broken JSON on line 2")
    row = by_uri(table, f"{tmp_path.name}/feed.jsonl#3")
    title, body = bbc_article(bbc, BBC_FILES[1])
    assert (row["title"], row["published_date"].isoformat(), row["url"], row["outlet"]) == (
        title, "2004-03-02", "https://news.example.org/2", "news.example.org")
    assert list(row["authors"]) == ["Jane Doe", "John Roe"]
    assert row["text"].startswith(body.split("\n")[0].strip()[:60])
    assert row["text"].split("\n\n")[0] != title  # the given title is not taken again


def test_cc_news_names_a_json_array_and_a_field_mapping(bbc, tmp_path):
    items = []
    for n, name in enumerate(BBC_FILES, start=1):
        title, body = bbc_article(bbc, name)
        items.append({"title": title, "text": body, "date": f"2004-05-0{n}", "url": f"https://cc.example/{n}"})
    (tmp_path / "cc.json").write_text(json.dumps(items), encoding="utf-8")
    table = records(tmp_path / "cc.json")
    assert list(table["source_uri"]) == [f"{tmp_path.name}/cc.json#{n}" for n in (1, 2, 3)]
    assert table["reason"].isna().all()
    assert [d.isoformat() for d in table["published_date"]] == ["2004-05-01", "2004-05-02", "2004-05-03"]
    # Other names, given with --field.
    renamed = [{"headline_text": i["title"], "story": i["text"]} for i in items]
    (tmp_path / "other.jsonl").write_text("\n".join(map(json.dumps, renamed)), encoding="utf-8")
    unmapped = records(tmp_path / "other.jsonl")
    assert unmapped["reason"].str.startswith("no article text in the record").all()
    mapped = records(tmp_path / "other.jsonl", fields={"text": "story", "title": "headline_text"})
    assert mapped["reason"].isna().all() and list(mapped["title"]) == [i["title"] for i in items]


def test_gzip_files_and_a_truncated_one(bbc, tmp_path):
    lines = [json.dumps(news_please(bbc, name, n)) for n, name in enumerate(BBC_FILES, start=1)]
    packed = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
    (tmp_path / "feed.jsonl.gz").write_bytes(packed)
    (tmp_path / "article.txt.gz").write_bytes(gzip.compress((bbc / BBC_FILES[0]).read_bytes(), mtime=0))
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[:len(packed) * 2 // 3])
    table = records(tmp_path)
    whole = table[table["source_uri"].str.startswith(f"{tmp_path.name}/feed.jsonl.gz#")]
    assert len(whole) == 3 and whole["reason"].isna().all()
    text = by_uri(table, f"{tmp_path.name}/article.txt.gz")
    assert pd.isna(text["reason"]) and text["title"] == bbc_article(bbc, BBC_FILES[0])[0]
    cut = table[table["source_uri"].str.startswith(f"{tmp_path.name}/cut.jsonl.gz#")]
    assert cut["reason"].isna().sum() >= 1  # what came before the damage loads
    assert cut["reason"].dropna().str.contains("broken JSON|truncated gzip").any()


def test_a_gzip_bomb_is_rejected_and_the_rest_loads(bbc, tmp_path, monkeypatch):
    monkeypatch.setattr("flows.stages.ingest.formats.MAX_DECOMPRESSED_BYTES", 10 ** 6)
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress(b"{" + b" " * 2 * 10 ** 6, mtime=0))
    (tmp_path / "article.txt.gz").write_bytes(gzip.compress((bbc / BBC_FILES[0]).read_bytes(), mtime=0))
    table = records(tmp_path)
    assert len(table) == 2
    bomb = by_uri(table, f"{tmp_path.name}/bomb.jsonl.gz")
    assert bomb["reason"] == "gzip archive larger than 0.000931323 GB when decompressed: not read"
    assert pd.isna(by_uri(table, f"{tmp_path.name}/article.txt.gz")["reason"])


def aeb_pages(count: int) -> list[tuple[bytes, str]]:
    """(html bytes, url) of real pages of the ScrapingHub benchmark."""
    folder = corpus("scrapinghub-aeb")
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    names = sorted(truth)[:count]
    return [(gzip.decompress((folder / "html" / f"{name}.html.gz").read_bytes()), truth[name]["url"])
            for name in names]


def warc_file(responses, truncate: bool = False) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for payload, url, content_type in responses:
        writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
        headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            url, "response", payload=io.BytesIO(payload), http_headers=headers,
            warc_headers_dict={"WARC-Date": "2019-11-04T10:20:30Z"}))
    data = out.getvalue()
    return data[:-200] if truncate else data


def test_warc_responses_become_sources_with_url_and_crawl_date(tmp_path):
    pages = aeb_pages(3)
    responses = [(html, url, "text/html; charset=utf-8") for html, url in pages]
    responses.insert(1, (b"", "https://example.org/empty", "text/html"))
    responses.insert(2, (b"\x89PNG\r\n\x1a\n" + bytes(200), "https://example.org/logo.png", "image/png"))
    (tmp_path / "crawl.warc.gz").write_bytes(warc_file(responses))
    table = records(tmp_path / "crawl.warc.gz")
    # Records 1, 3, 5, ... are requests (not inputs); responses are 2, 4, 6, ...
    assert list(table["source_uri"]) == [f"{tmp_path.name}/crawl.warc.gz#{n}" for n in (2, 4, 6, 8, 10)]
    assert by_uri(table, f"{tmp_path.name}/crawl.warc.gz#4")["reason"].startswith("WARC response record without payload")
    assert by_uri(table, f"{tmp_path.name}/crawl.warc.gz#6")["reason"].startswith("not a web page: image/png")
    pages_read = table[table["reason"].isna()]
    assert len(pages_read) == 3
    assert sorted(pages_read["url"]) == sorted(url for _, url in pages)
    assert {d.isoformat() for d in pages_read["crawl_date"]} == {"2019-11-04"}
    assert (pages_read["word_count"] > 50).all()  # the WSJ page is a paywalled teaser of 67 words


def test_a_truncated_warc_keeps_the_records_before_the_damage(tmp_path):
    pages = aeb_pages(3)
    (tmp_path / "cut.warc.gz").write_bytes(warc_file([(h, u, "text/html") for h, u in pages], truncate=True))
    table = records(tmp_path / "cut.warc.gz")
    assert table["reason"].isna().sum() == 2
    assert table["reason"].dropna().str.contains("truncated gzip archive.*last WARC record is cut off").any()


def test_a_web_page_is_read_as_one_whatever_its_name(tmp_path):
    (html, url), = aeb_pages(1)
    (tmp_path / "saved.txt").write_bytes(html)
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(html, mtime=0))
    table = records(tmp_path)
    assert table["reason"].isna().all()
    assert table["text"].iloc[0] == table["text"].iloc[1]
    assert table["title"].notna().all()


def test_section_and_tags_from_records_and_from_a_collections_folders(bbc, tmp_path):
    """A JSON record's category and tags, Reuters-21578's topics, and the folder below
    the source folder of a collection kept a folder per section (the BBC's)."""
    (tmp_path / "feed").mkdir()
    title, body = bbc_article(bbc, "business/001.txt")
    items = [{"title": title, "text": body, "category": "Business", "tags": "media, mergers"},
             {"title": title, "text": body + " More.", "section": ["Markets", "Business"],
              "keywords": ["AOL", "Time Warner", "AOL"]}]
    (tmp_path / "feed" / "news.jsonl").write_text("\n".join(map(json.dumps, items)), encoding="utf-8")
    table = records(tmp_path / "feed")
    first, second = by_uri(table, "feed/news.jsonl#1"), by_uri(table, "feed/news.jsonl#2")
    assert (first["section"], list(first["tags"])) == ("Business", ["media", "mergers"])
    assert (second["section"], list(second["tags"])) == ("Markets", ["AOL", "Time Warner"])
    reuters = records(corpus("reuters21578") / "json-data" / "reut2-000.json")
    assert list(by_uri(reuters, "json-data/reut2-000.json#1")["tags"]) == ["cocoa"]  # its topics
    for section in ("business", "sport"):
        (tmp_path / "bbc" / section).mkdir(parents=True)
        shutil.copy(bbc / section / "001.txt", tmp_path / "bbc" / section / "001.txt")
    shutil.copy(bbc / "tech" / "001.txt", tmp_path / "bbc" / "loose.txt")
    collection = records(tmp_path / "bbc")
    sections = [section if isinstance(section, str) else None for section in collection["section"]]
    assert dict(zip(collection["source_uri"], sections)) == {
        "bbc/business/001.txt": "business", "bbc/sport/001.txt": "sport", "bbc/loose.txt": None}
