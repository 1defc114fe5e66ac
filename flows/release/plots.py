"""Charts for the dataset card: what a release holds, at a glance.

`write_plots` draws PNGs into `<release>/plots/` and returns, for each, the path,
a title and alt text stating the key numbers, so the card reads well without the
images too. A chart with nothing to show (no dates, no quotes, ...) is left out
rather than drawn empty.

The PNGs are byte-identical for the same tables, like the data files: a fixed
size and resolution, no clock time and no matplotlib version in the metadata.
Figures are built with the object API on the Agg canvas (no pyplot), so nothing
global changes and no display is needed; matplotlib is imported only here
because it is slow to import.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

TOP_OUTLETS, TOP_ENTITIES, TOP_SPEAKERS = 15, 20, 20
QUOTE_KINDS = ["direct", "partial", "indirect"]
LONGEST_LABEL = 40
# The columns the charts read of the tables a build writes before publishing (mentions
# are not charted): publishing reads only these back from the files.
PLOTTED_COLUMNS = {"quotes": ["speaker_name", "kind"]}
WIDTH_INCHES, DPI = 8.0, 120
COLOUR, GREY = "#4C72B0", "#A0A0A0"


MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]


def write_plots(tables: dict[str, pd.DataFrame], folder: Path) -> list[dict]:
    """Draw every chart that has data into `folder/plots/`; returns
    [{"path": "plots/<name>.png", "title": ..., "alt": ...}] in card order."""
    charts = [
        articles_by_month(tables["articles"]),
        articles_by_outlet(tables["articles"]),
        top_entities(tables.get("entities")),
        top_speakers(tables.get("quotes")),
        quote_kinds(tables.get("quotes")),
    ]
    charts = [chart for chart in charts if chart]
    if charts:
        (folder / "plots").mkdir(parents=True, exist_ok=True)
    return [_draw(chart, folder) for chart in charts]


def articles_by_month(articles: pd.DataFrame) -> dict | None:
    dates = articles["published_date"].dropna()
    if dates.empty:
        return None
    counts = pd.Series([dt.date(d.year, d.month, 1) for d in dates]).value_counts()
    months = _month_range(min(counts.index), max(counts.index))
    counts = counts.reindex(months, fill_value=0)
    busiest = counts.idxmax()
    undated = len(articles) - len(dates)
    not_shown = f"{_count(undated, 'article')} without a date"
    alt = (f"Publication date known for {len(dates):,} of {_count(len(articles), 'article')}, "
           f"from {_month(months[0])} to {_month(months[-1])}; the busiest month is "
           f"{_month(busiest)} ({_count(counts[busiest], 'article')}). "
           + (f"Not shown: {not_shown}." if undated else "Every article has a date."))
    return {"name": "articles_by_month", "title": "Articles by month of publication",
            "alt": alt, "kind": "months", "labels": months, "values": counts.tolist(),
            "xlabel": f"month of publication ({not_shown} not shown)" if undated
                      else "month of publication",
            "ylabel": "articles"}


def articles_by_outlet(articles: pd.DataFrame) -> dict | None:
    known = _ranked(articles["outlet"].value_counts())
    if known.empty:
        return None  # a single bar, "unknown", says nothing the card does not
    unknown = int(articles["outlet"].isna().sum())
    shown = known.head(TOP_OUTLETS)
    alt = (f"Outlet known for {int(known.sum()):,} of {_count(len(articles), 'article')}, "
           f"{_count(len(known), 'outlet')} in all; the largest are "
           f"{_leaders(known, 'article')}. "
           + (f"No outlet (\"unknown\"): {unknown:,}." if unknown else "Every article has one."))
    # Articles without an outlet: one grey bar after the ranked outlets, not among them.
    extra = 1 if unknown else 0
    return _bars("articles_by_outlet", _top_title("Articles by outlet", shown, known), alt,
                 shown.index.tolist() + ["unknown"] * extra, shown.tolist() + [unknown] * extra,
                 "articles") | {"colours": [COLOUR] * len(shown) + [GREY] * extra}


def top_entities(entities: pd.DataFrame | None) -> dict | None:
    if entities is None or entities.empty:
        return None
    labels = (entities["name"] + " (" + entities["label"] + ")").astype(str)
    # Entities that share a name and label are one bar, as a reader would count them.
    counts = _ranked(entities["mentions"].astype(int).groupby(labels).sum())
    shown = counts.head(TOP_ENTITIES)
    alt = (f"{_count(int(counts.sum()), 'mention')} of "
           f"{_count(len(entities), 'entity', 'entities')}; the most mentioned are "
           f"{_leaders(shown, 'mention')}.")
    return _bars("top_entities", _top_title("Most-mentioned entities", shown, counts), alt,
                 shown.index.tolist(), shown.tolist(), "mentions")


def top_speakers(quotes: pd.DataFrame | None) -> dict | None:
    if quotes is None or quotes["speaker_name"].isna().all():
        return None
    counts = _ranked(quotes["speaker_name"].value_counts())
    shown = counts.head(TOP_SPEAKERS)
    alt = (f"Speaker resolved for {int(counts.sum()):,} of {_count(len(quotes), 'quote')}, "
           f"{_count(len(counts), 'speaker')} in all; the most quoted are "
           f"{_leaders(shown, 'quote')}.")
    return _bars("top_speakers", _top_title("Most-quoted speakers", shown, counts), alt,
                 shown.index.tolist(), shown.tolist(), "quotes")


def quote_kinds(quotes: pd.DataFrame | None) -> dict | None:
    if quotes is None or quotes.empty:
        return None
    counts = quotes["kind"].value_counts().reindex(QUOTE_KINDS, fill_value=0)
    alt = f"{len(quotes):,} quotes: " + ", ".join(
        f"{counts[kind]:,} {kind} ({counts[kind] / len(quotes):.0%})" for kind in QUOTE_KINDS) + "."
    return _bars("quote_kinds", "Quotes by kind", alt, QUOTE_KINDS, counts.tolist(), "quotes")


def _bars(name: str, title: str, alt: str, labels: list[str], values: list[int], xlabel: str) -> dict:
    return {"name": name, "title": title, "alt": alt, "kind": "bars", "labels": labels,
            "values": values, "xlabel": xlabel}


def _draw(chart: dict, folder: Path) -> dict:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bars = len(chart["labels"]) if chart["kind"] == "bars" else 0
    height = (1.6 + 0.28 * bars) if bars else 4.0  # bars keep their thickness
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    (_draw_months if chart["kind"] == "months" else _draw_bars)(axes, chart)
    axes.set_title(chart["title"], loc="left", fontsize=13)
    axes.spines[["top", "right"]].set_visible(False)
    path = f"plots/{chart['name']}.png"
    # No "Software" (the matplotlib version) in the PNG: same tables, same bytes.
    figure.savefig(folder / path, dpi=DPI, metadata={"Software": None, "Title": chart["title"]})
    return {"path": path, "title": chart["title"], "alt": chart["alt"]}


def _draw_bars(axes, chart: dict) -> None:
    """Horizontal bars, largest at the top, each with its count."""
    positions = range(len(chart["labels"]))
    drawn = axes.barh(positions, chart["values"], color=chart.get("colours", COLOUR))
    axes.set_yticks(positions, [_label(text) for text in chart["labels"]])
    axes.invert_yaxis()
    axes.bar_label(drawn, labels=[f"{v:,}" for v in chart["values"]], padding=3, fontsize=9)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.xaxis.set_major_formatter("{x:,.0f}")
    axes.set_xlabel(chart["xlabel"])
    axes.margins(x=0.08, y=0.02)


def _draw_months(axes, chart: dict) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    months = chart["labels"]
    axes.bar(months, chart["values"], width=25, align="edge", color=COLOUR)
    # At least half a year wide, so a few months get month ticks rather than days.
    middle = months[0] + (months[-1] - months[0]) / 2 + dt.timedelta(days=14)
    half_width = max((months[-1] - months[0]) / 2 + dt.timedelta(days=45), dt.timedelta(days=92))
    axes.set_xlim(middle - half_width, middle + half_width)
    locator = AutoDateLocator(maxticks=12)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_xlabel(chart["xlabel"])
    axes.set_ylabel(chart["ylabel"])
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.yaxis.set_major_formatter("{x:,.0f}")


def _ranked(counts: pd.Series) -> pd.Series:
    """`counts` largest first, ties in name order, so the same tables draw the same chart."""
    return counts.sort_index().sort_values(ascending=False, kind="stable")


def _leaders(counts: pd.Series, unit: str, how_many: int = 3) -> str:
    leaders = counts.head(how_many).items()
    return ", ".join(f"{name} ({_count(count, unit)})" for name, count in leaders)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def _top_title(title: str, shown: pd.Series, counts: pd.Series) -> str:
    return f"{title}, top {len(shown)} of {len(counts):,}" if len(counts) > len(shown) else title


def _month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    months = [first]
    while months[-1] < last:
        year, month = divmod(months[-1].year * 12 + months[-1].month, 12)
        months.append(dt.date(year, month + 1, 1))
    return months


def _month(day: dt.date) -> str:
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"  # not strftime: it follows the locale


def _label(text: str) -> str:
    """A tick label: shortened in the middle (an entity keeps its "(LABEL)"), with "$"
    escaped so matplotlib does not read it as mathtext."""
    if len(text) > LONGEST_LABEL:
        text = text[:LONGEST_LABEL - 13] + "…" + text[-12:]
    return text.replace("$", r"\$")
