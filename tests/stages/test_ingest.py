"""Stage 1: discovery, decoding and rejection, on the seeds, the BBC corpus and
hostile files made here from real article text."""

from __future__ import annotations

import pytest

from flows.stages.ingest.decode import decode
from flows.stages.ingest.discover import InputError, InputFile, discover_inputs
from flows.stages.ingest.read import read_input
from tests.helpers import SEEDS


def seed_text(name: str = "001") -> str:
    return next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


def ingest_bytes(tmp_path, raw: bytes, name: str = "article.txt"):
    path = tmp_path / name
    path.write_bytes(raw)
    return read_input(InputFile(path, name))


def test_seeds_are_five_inputs_named_by_folder():
    inputs = discover_inputs([str(SEEDS)])
    assert [i.source_uri for i in inputs] == sorted(
        f"seeds/{p.name}" for p in SEEDS.glob("*.txt"))
    assert len(inputs) == 5


def test_folder_file_glob_and_repeats(tmp_path):
    (tmp_path / "feed" / "2017" / "06").mkdir(parents=True)
    for name in ("a.txt", "2017/b.txt", "2017/06/c.txt", ".hidden.txt"):
        (tmp_path / "feed" / name).write_text(seed_text())
    folder = discover_inputs([str(tmp_path / "feed")])
    assert [i.source_uri for i in folder] == ["feed/2017/06/c.txt", "feed/2017/b.txt", "feed/a.txt"]
    single = discover_inputs([str(tmp_path / "feed" / "a.txt")])
    assert [i.source_uri for i in single] == ["feed/a.txt"]  # a file keeps the name of its folder
    pattern = discover_inputs([str(tmp_path / "feed" / "**" / "*.txt")])
    assert [i.source_uri for i in pattern] == [i.source_uri for i in folder]
    repeated = discover_inputs([str(tmp_path / "feed"), str(tmp_path / "feed" / "2017")])
    assert len(repeated) == 5  # 3 from the feed, 2 again under their own folder name


def test_missing_source_and_empty_glob_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        discover_inputs([str(tmp_path / "nowhere")])
    with pytest.raises(InputError, match="matches no files"):
        discover_inputs([str(tmp_path / "*.txt")])
    (tmp_path / ".drafts").mkdir()
    (tmp_path / ".drafts" / "a.txt").write_text(seed_text())
    with pytest.raises(InputError, match="matches no files"):  # files in hidden folders are no inputs
        discover_inputs([str(tmp_path / ".dr*" / "*.txt")])


def test_single_files_of_the_same_name_in_two_folders_stay_two_inputs(tmp_path):
    for section in ("business", "sport"):
        (tmp_path / section).mkdir()
        (tmp_path / section / "001.txt").write_text(seed_text())
    inputs = discover_inputs([str(tmp_path / "business" / "001.txt"), str(tmp_path / "sport" / "001.txt")])
    assert [i.source_uri for i in inputs] == ["business/001.txt", "sport/001.txt"]


def test_two_files_with_one_uri_are_refused(tmp_path):
    for side in ("left", "right"):
        (tmp_path / side / "seeds").mkdir(parents=True)
        (tmp_path / side / "seeds" / "x.txt").write_text(seed_text())
    with pytest.raises(InputError, match="would both be called 'seeds/x.txt'"):
        discover_inputs([str(tmp_path / "left" / "seeds"), str(tmp_path / "right" / "seeds")])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32", "cp1252"])
def test_encodings_decode_to_the_same_text(tmp_path, encoding):
    text = seed_text()  # curly quotes and apostrophes: they differ between encodings
    record = ingest_bytes(tmp_path, text.encode(encoding))
    assert record.reason is None
    assert record.text == text


def test_latin1_article_with_pound_sign(tmp_path):
    text = seed_text("002").replace("20,000 square meters", "£20m worth of café terrain")
    record = ingest_bytes(tmp_path, text.encode("latin-1", errors="replace"))
    assert "£20m worth of café terrain" in record.text


def test_bbc_file_in_windows_1252_decodes(bbc):
    record = read_input(InputFile(bbc / "sport" / "199.txt", "bbc/sport/199.txt"))
    with pytest.raises(UnicodeDecodeError):
        (bbc / "sport" / "199.txt").read_bytes().decode("utf-8")
    assert "a £15.8m signing from Parma" in record.text


def test_mojibake_is_repaired():
    broken = seed_text().encode("utf-8").decode("cp1252", errors="replace")
    assert "Russiaâ€™s" in broken
    assert "Russia’s moves" in decode(broken.encode("utf-8"))


def test_nul_and_control_characters_are_removed(tmp_path):
    text = seed_text()
    dirty = text.replace("Quds Force", "Quds\x00 Force\x07").replace("\n", "\r\n")
    record = ingest_bytes(tmp_path, dirty.encode("utf-8"))
    assert record.text == text


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "empty file"),
    (b"  \n\t\r\n  ", "blank: the file holds only whitespace"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary file: a PNG image"),
    (b"%PDF-1.7\n" + bytes(range(256)), "binary file: a PDF document"),
    (bytes((i * 7919) % 256 for i in range(4096)), "undecodable"),
    (b"".join(i.to_bytes(4, "little") for i in range(0, 40000, 37)), "binary file"),
    (b'{"title": "x", "body": "y"}', "JSON data"),
    (b"<!DOCTYPE html><html><body><p>Hello</p></body></html>", "markup"),
    (b"Breaking news.", "too short to be an article: 2 words"),
    (b"\n".join(b"%d,%d,%d.5" % (i, i * 2, i * 3) for i in range(200)), "not prose"),
])
def test_hostile_files_are_rejected_with_a_reason(tmp_path, raw, reason):
    record = ingest_bytes(tmp_path, raw)
    assert record.text is None
    assert record.reason.startswith(reason)


def test_documentation_files_are_not_articles(tmp_path):
    record = ingest_bytes(tmp_path, seed_text().encode(), name="README.TXT")
    assert record.reason == "a documentation file (README.TXT), not an article"


def test_a_few_invalid_utf8_bytes_do_not_lose_the_article(tmp_path):
    raw = seed_text().encode("utf-8").replace(b"Soleimani", b"Soleim\xe1ni", 1)
    record = ingest_bytes(tmp_path, raw)
    assert record.reason is None and "Qasim" in record.text


def test_a_file_of_many_articles_is_rejected_before_it_reaches_the_parser(bbc, tmp_path):
    """Two hundred BBC articles in one file are no news article, and spaCy would refuse the
    text or need gigabytes for it: the input is rejected and the rest of the shard goes on."""
    import pandas as pd

    from flows.stages.prepare import prepare_shard

    bodies = [path.read_text(encoding="latin-1") for path in sorted((bbc / "politics").glob("*.txt"))]
    (tmp_path / "collection.txt").write_text("\n\n".join(bodies[:200]), encoding="utf-8")
    (tmp_path / "article.txt").write_text(bodies[0], encoding="utf-8")
    records = prepare_shard(discover_inputs([str(tmp_path)])).records
    records.index = records["source_uri"].str.rsplit("/", n=1).str[-1]
    reason = records.loc["collection.txt", "reason"]
    assert reason.startswith("too long to be one news article: ") and "at most 20,000 words" in reason
    assert pd.isna(records.loc["article.txt", "reason"]) and records.loc["article.txt", "word_count"] > 100


@pytest.mark.parametrize("text, fits", [
    (seed_text(), True),
    (" ".join([seed_text()] * 40), True),  # 12,640 words, 82,479 characters
    (("x" * 40 + " ") * 5_000, False),  # 5,000 words, but 205,000 characters
    ("word " * 20_001, False),
    ("word " * 19_999, True),
])
def test_the_longest_article_text(text, fits):
    from flows.stages.ingest.decode import Rejected, require_article_length

    if fits:
        require_article_length(text)
    else:
        with pytest.raises(Rejected, match="too long to be one news article"):
            require_article_length(text)
