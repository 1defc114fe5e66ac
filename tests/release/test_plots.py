"""Charts for the dataset card: real PNGs, the same bytes for the same tables, alt
text with the real numbers, and no empty chart."""

from __future__ import annotations


import matplotlib.image
import pandas as pd
import pytest
from PIL import Image

from flows.release.plots import write_plots
from tests.helpers import copy_tables

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALL_PLOTS = ["plots/articles_by_month.png", "plots/articles_by_outlet.png",
             "plots/top_entities.png", "plots/top_speakers.png", "plots/quote_kinds.png"]


@pytest.fixture(scope="module")
def plotted(built_seeds, tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    return folder, write_plots(copy_tables(built_seeds), folder)


def test_every_chart_is_a_readable_png(plotted):
    folder, plots = plotted
    assert [plot["path"] for plot in plots] == ALL_PLOTS
    written = sorted(f"plots/{p.name}" for p in (folder / "plots").iterdir())
    assert written == sorted(ALL_PLOTS)
    for plot in plots:
        path = folder / plot["path"]
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert b"Matplotlib" not in data  # no version stamp
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width == 960
        assert matplotlib.image.imread(path).ndim == 3
        assert plot["title"] and not plot["title"].endswith(".")
        assert plot["alt"].endswith(".")


def test_same_tables_give_the_same_bytes(seed_tables, plotted, tmp_path):
    folder, plots = plotted
    again = write_plots(seed_tables, tmp_path)
    assert again == plots
    for plot in plots:
        assert (tmp_path / plot["path"]).read_bytes() == (folder / plot["path"]).read_bytes()


def test_alt_text_states_the_real_counts(seed_tables, plotted):
    alt = {plot["path"]: plot["alt"] for plot in plotted[1]}
    articles, entities, quotes = seed_tables["articles"], seed_tables["entities"], seed_tables["quotes"]
    undated = int(articles["published_date"].isna().sum())
    assert f"Not shown: {undated} articles without a date." in alt["plots/articles_by_month.png"]
    outlets = alt["plots/articles_by_outlet.png"]
    assert f'No outlet ("unknown"): {int(articles["outlet"].isna().sum())}.' in outlets
    top = entities.sort_values(["mentions", "name"], ascending=[False, True]).iloc[0]
    assert (f"{int(entities['mentions'].sum())} mentions of {len(entities)} entities; the most "
            f"mentioned are {top['name']} ({top['label']}) ({top['mentions']} mentions)"
            in alt["plots/top_entities.png"])
    said = quotes["speaker_name"].value_counts().sort_index()
    speaker = said.idxmax()  # the first of the most quoted, by name
    assert f"the most quoted are {speaker} ({said.max()} quotes)" in alt["plots/top_speakers.png"]
    kinds = quotes["kind"].value_counts()
    assert alt["plots/quote_kinds.png"].startswith(
        f"{len(quotes)} quotes: {kinds.get('direct', 0)} direct (")
    assert f"{kinds.get('indirect', 0)} indirect (" in alt["plots/quote_kinds.png"]


def test_charts_without_data_are_left_out(seed_tables, tmp_path):
    no_quotes = seed_tables | {"quotes": seed_tables["quotes"].iloc[:0]}
    assert [p["path"] for p in write_plots(no_quotes, tmp_path / "a")] == ALL_PLOTS[:3]
    articles_only = {"articles": seed_tables["articles"], "sources": seed_tables["sources"]}
    assert [p["path"] for p in write_plots(articles_only, tmp_path / "b")] == ALL_PLOTS[:2]
    nothing = {"articles": seed_tables["articles"].assign(published_date=None, outlet=None)}
    assert write_plots(nothing, tmp_path / "c") == []
    assert not (tmp_path / "c" / "plots").exists()


def test_labels_are_drawn_as_written(seed_tables, tmp_path):
    """Names with "$" are not mathtext (which would fail on this one), long names are cut."""
    entities = seed_tables["entities"].copy()
    entities.loc[entities.index[0], ["name", "mentions"]] = ["Fund $^$ " + "x" * 60, 10_000]
    plots = write_plots(seed_tables | {"entities": entities}, tmp_path)
    assert "Fund $^$" in next(p["alt"] for p in plots if p["path"] == "plots/top_entities.png")


def test_bbc_sized_tables_give_every_chart(tmp_path):
    """Tables the size of the BBC corpus's (2,000 articles, 14,000 entities, 14,000
    quotes); dates and outlets the BBC files lack are made up here."""
    days = pd.Series(pd.date_range("2004-01-01", periods=2000, freq="8h").date)
    articles = pd.DataFrame({"published_date": days.where(days.index % 10 > 0),
                             "outlet": [f"outlet {i % 40}" for i in range(2000)]})
    entities = pd.DataFrame({"name": [f"entity {i}" for i in range(14000)], "label": "ORG",
                             "mentions": [4] * 14000})
    quotes = pd.DataFrame({"kind": ["direct", "partial", "indirect", "direct"] * 3500,
                           "speaker_name": [f"speaker {i % 900}" for i in range(14000)]})
    plots = write_plots({"articles": articles, "entities": entities, "quotes": quotes}, tmp_path)
    assert len(plots) == 5
