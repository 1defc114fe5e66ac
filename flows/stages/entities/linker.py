"""Canonical entities: every mention linked to one entity across the whole dataset.

In order:
1. labels: a surname the article gives a PERSON in full is a PERSON ("Dillon" after
   "Ryan Dillon"); a curated alias carries its label; a known surname the dataset
   labels PERSON at least half the time is a PERSON; any other surface form the
   dataset labels one way at least three times in four gets that label everywhere;
2. within an article, a shorter name resolves to the full name it abbreviates
   ("Davis" -> "Jeff Davis"), and an acronym defined in the text to its long form
   ("Popular Mobilization Units (PMU)");
3. across the dataset, names meet when their keys are equal (case, accents, dots,
   "al-" prefixes and spacing set aside: "al- Tanf" = "Tanf"), when a curated alias or
   an "also known as" in the text joins them, or when two person names differ only by
   the vowels of a transliteration ("Qasem" / "Qasim" Soleimani).
A bare surname joins a full name across articles only when the dataset knows one
person of that surname, so two different people called Davis stay apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import NamedTuple

import pandas as pd

from flows.stages.entities.aliases import Alias
from flows.stages.entities.names import (Mention, Node, UnionFind, also_known_as, article_nodes, entity_id_for,
                                         join_transliterations, join_unique_surnames, most_complete, name_key)

MAJORITY_SHARE, MAJORITY_MIN_MENTIONS = 0.75, 3
ENTITY_COLUMNS = ["entity_id", "name", "label", "aliases", "mentions", "articles"]


def canonicalise(mentions: pd.DataFrame, articles: pd.DataFrame,
                 aliases: list[Alias]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mentions with `label` corrected and `entity_id` set, entities table), all in memory."""
    # Plain lists: iterating pandas columns value by value is several times slower.
    columns = [mentions[name].tolist() for name in ("article_id", "start", "end", "text", "label")]
    by_article: dict[str, list[int]] = defaultdict(list)
    for i, article_id in enumerate(columns[0]):
        by_article[article_id].append(i)
    texts = dict(zip(articles["article_id"].tolist(), articles["text"].tolist()))
    groups = [(positions, [Mention(a, int(s), int(e), t, label, name_key(t))
                           for a, s, e, t, label in (tuple(column[i] for column in columns) for i in positions)],
               texts[article_id]) for article_id, positions in sorted(by_article.items())]
    linker = link_entities([groups], lambda chunk: [(rows, text) for _, rows, text in chunk], aliases)
    entity_ids, counts = [""] * len(mentions), LinkCounts()
    for positions, rows, text in groups:
        linked = linker.link(rows, text)
        counts.add(rows, linked)
        for i, entity_id in zip(positions, linked):
            entity_ids[i] = entity_id
    return linker.linked(mentions, entity_ids), linker.entities(counts)


def link_entities(chunks: Sequence, read: Callable[[object], list[tuple[list[Mention], str]]],
                  aliases: list[Alias], map: Callable = map) -> EntityLinker:
    """An EntityLinker that has counted and added every article: `read(chunk)` gives
    the mentions and text of each article of a chunk, for each of `chunks` in order.
    `map(function, chunks)` runs each pass over the chunks, in order (the builtin here;
    flows.runtime.executors.fork_map on several cores: its processes, forked as each
    pass starts, see the linker as the pass before left it); the linker here adds up
    what they found, in order."""
    linker = EntityLinker(aliases)
    for labels in map(lambda chunk: LabelCounts.of(rows for rows, _ in read(chunk)), chunks):
        linker.count(labels)
    linker.counted()
    for names in map(lambda chunk: [linker.article_names(rows, text) for rows, text in read(chunk)], chunks):
        for article in names:
            linker.add(article)
    linker.finish()
    return linker


def mention_rows(rows: list[dict]) -> list[Mention]:
    """Mentions as flows.stages.mentions extracts them (dicts), for EntityLinker."""
    return [Mention(r["article_id"], r["start"], r["end"], r["text"], r["label"], name_key(r["text"]))
            for r in rows]


class LabelCounts:
    """How the dataset labels each surface form (by name key), and its people's
    surnames. Counts of separate chunks of articles add up, in order: labels stay in
    the order they were first seen, which settles ties."""

    def __init__(self):
        self.labels: dict[str, dict[str, int]] = defaultdict(dict)
        self.surnames: set[str] = set()

    @classmethod
    def of(cls, articles: Iterable[list[Mention]]) -> "LabelCounts":
        counts = cls()
        for rows in articles:
            for row in rows:
                labels = counts.labels[row.key]
                labels[row.label] = labels.get(row.label, 0) + 1
                if row.label == "PERSON" and " " in row.key:
                    counts.surnames.add(row.key.split()[-1])
        return counts

    def update(self, other: "LabelCounts") -> None:
        for key, counts in other.labels.items():
            labels = self.labels[key]
            for label, n in counts.items():
                labels[label] = labels.get(label, 0) + n
        self.surnames |= other.surnames


class ArticleNames(NamedTuple):
    """One article's mentions as names of the dataset (EntityLinker.article_names)."""
    labels: list[str]  # each mention's corrected label
    texts: list[str]
    nodes: list[Node]
    acronyms: dict[str, Node]  # the acronyms it defines, and their long forms
    joined: list[tuple[Node, Node]]  # names it says are one ("also known as")


class LinkCounts:
    """What the entities table counts of the mentions linked to each entity: their
    surface forms, mentions and articles. Counts of separate chunks of articles add up."""

    def __init__(self):
        self.aliases: dict[str, set[str]] = defaultdict(set)
        self.mentions: Counter = Counter()
        self.articles: Counter = Counter()

    def add(self, rows: list[Mention], entity_ids: list[str]) -> None:
        """One article's mentions and their entities (EntityLinker.link)."""
        for row, entity_id in zip(rows, entity_ids):
            self.aliases[entity_id].add(row.text)
        self.mentions.update(entity_ids)
        self.articles.update(set(entity_ids))

    def update(self, other: "LinkCounts") -> None:
        for entity_id, texts in other.aliases.items():
            self.aliases[entity_id] |= texts
        self.mentions.update(other.mentions)
        self.articles.update(other.articles)


class EntityLinker:
    """Canonical entities for a dataset read a chunk of articles at a time, in three
    passes over the same articles in the same order: `count` the labels of every chunk
    (LabelCounts), then `counted`; `add` the names of every article; `finish`; then
    `link` every article. It holds tallies per surface form, name and entity, never
    the dataset's mentions, so a release's mentions can be written as they are linked.
    `article_names` and `link` change nothing: they may run in forked processes (`link`'s
    callers count what they link: LinkCounts)."""

    def __init__(self, aliases: list[Alias]):
        self._aliases = aliases
        self._alias_label = {name_key(a.alias): a.label for a in aliases} | {
            name_key(a.name): a.label for a in aliases}
        self._labels = LabelCounts()
        self._tally: dict[str, tuple] = {}
        self._graph = UnionFind()
        self._acronyms: dict[str, set[Node]] = defaultdict(set)
        # Per node: {label: [mentions, first mention's position]} and {surface: mentions}.
        self._node_labels: dict[Node, dict[str, list[int]]] = defaultdict(dict)
        self._node_surfaces: dict[Node, dict[str, int]] = defaultdict(dict)
        self._added = 0
        self._entity_of: dict[Node, str] = {}
        self._label_of: dict[str, str] = {}
        self.names: dict[str, str] = {}  # entity_id -> canonical name, once finished

    def count(self, labels: LabelCounts) -> None:
        """First pass: the label counts of the next chunk of articles."""
        self._labels.update(labels)

    def counted(self) -> None:
        """End of the first pass: per surface form, once (not per mention), its most
        used label, that label's count, all its mentions, and those labelled PERSON."""
        self._tally = {key: (*_most_common(counts), sum(counts.values()), counts.get("PERSON", 0))
                       for key, counts in self._labels.labels.items()}
        self._labels.labels = {}

    def article_names(self, rows: list[Mention], text: str) -> ArticleNames:
        """One article's mentions (`text` is its text) as names of the dataset."""
        rows = self._relabelled(rows)
        nodes, acronyms = article_nodes(rows, text)
        return ArticleNames([row.label for row in rows], [row.text for row in rows], nodes, acronyms,
                            also_known_as(rows, nodes, text))

    def add(self, names: ArticleNames) -> None:
        """Second pass: one article's names into the graph of names."""
        for acronym, long_node in names.acronyms.items():
            self._acronyms[acronym].add(long_node)
        for left, right in names.joined:
            self._graph.union(left, right)
        for label, text, node in zip(names.labels, names.texts, names.nodes):
            self._graph.add(node)
            labels = self._node_labels[node]
            if label in labels:
                labels[label][0] += 1
            else:
                labels[label] = [1, self._added]
            self._added += 1
            surfaces = self._node_surfaces[node]
            surfaces[text] = surfaces.get(text, 0) + 1

    def finish(self) -> None:
        """Join names across the dataset; every name's entity, label and canonical name."""
        graph = self._graph
        for acronym, long_nodes in self._acronyms.items():
            if len(long_nodes) == 1:  # defined one way everywhere: safe to join dataset-wide
                (long_node,) = long_nodes
                graph.union((long_node[0], acronym), long_node)
        canonical_of: dict[Node, str] = {}
        for alias in self._aliases:
            canonical = (alias.label, name_key(alias.name))
            canonical_of[canonical] = alias.name
            graph.union((alias.label, name_key(alias.alias)), canonical)
        join_transliterations(graph)
        join_unique_surnames(graph)
        curated_name = {graph.find(node): name for node, name in sorted(canonical_of.items())}
        cluster_of = {node: graph.find(node) for node in self._node_labels}
        labels: dict[Node, dict[str, list[int]]] = defaultdict(dict)
        surfaces: dict[Node, dict[str, int]] = defaultdict(dict)
        for node, cluster in cluster_of.items():
            for label, (n, first) in self._node_labels[node].items():
                tally = labels[cluster].setdefault(label, [0, first])
                tally[0] += n
                tally[1] = min(tally[1], first)
            for surface, n in self._node_surfaces[node].items():
                surfaces[cluster][surface] = surfaces[cluster].get(surface, 0) + n
        # The most used label, the first used among equals.
        label_of = {c: max(counts.items(), key=lambda item: (item[1][0], -item[1][1]))[0]
                    for c, counts in labels.items()}
        name_of = {c: curated_name.get(c) or most_complete(surfaces[c]) for c in labels}
        # Clusters that end with one label and one name are one entity to a reader: one id.
        id_of = {c: entity_id_for(label_of[c], name_of[c]) for c in labels}
        first_cluster: dict[str, Node] = {}
        for cluster, entity_id in sorted(id_of.items()):
            first_cluster.setdefault(entity_id, cluster)
        self._entity_of = {node: id_of[cluster] for node, cluster in cluster_of.items()}
        self._label_of = {e: label_of[c] for e, c in first_cluster.items()}
        self.names = {e: name_of[c] for e, c in first_cluster.items()}
        del self._node_labels, self._node_surfaces, self._acronyms

    def link(self, rows: list[Mention], text: str) -> list[str]:
        """Third pass: the entity of each of one article's mentions."""
        nodes, _ = article_nodes(self._relabelled(rows), text)
        return [self._entity_of[node] for node in nodes]

    def linked(self, mentions: pd.DataFrame, entity_ids: list[str]) -> pd.DataFrame:
        """`mentions` with their `entity_id` and the entity's label (one entity, one label)."""
        linked = mentions.assign(label=[self._label_of[e] for e in entity_ids], entity_id=entity_ids)
        return linked[["mention_id", "article_id", "start", "end", "text", "label", "entity_id", "sentence"]]

    def entities(self, counts: LinkCounts) -> pd.DataFrame:
        """The entities table of the mentions `counts` counted."""
        return pd.DataFrame([{
            "entity_id": entity_id,
            "name": self.names[entity_id],
            "label": self._label_of[entity_id],
            "aliases": sorted(counts.aliases[entity_id]),
            "mentions": counts.mentions[entity_id],
            "articles": counts.articles[entity_id],
        } for entity_id in sorted(counts.mentions)], columns=ENTITY_COLUMNS)

    def _relabelled(self, rows: list[Mention]) -> list[Mention]:
        labels = _corrected_labels(rows, self._tally, self._alias_label, self._labels.surnames)
        return [row if row.label == label else row._replace(label=label) for row, label in zip(rows, labels)]


def _corrected_labels(rows: list[Mention], tally: dict[str, tuple], alias_label: dict[str, str],
                      known_surnames: set[str]) -> list[str]:
    """The labels of one article's mentions, given the dataset's `tally` of labels per
    surface form and its people's surnames."""
    surnames_in_article = {row.key.split()[-1] for row in rows if row.label == "PERSON" and " " in row.key}
    corrected = []
    for row in rows:
        label = row.label
        top, top_count, total, person = tally[row.key]
        if row.key in surnames_in_article:
            label = "PERSON"
        elif row.key in alias_label:
            label = alias_label[row.key]
        elif row.key in known_surnames and person * 2 >= total:
            label = "PERSON"
        elif total >= MAJORITY_MIN_MENTIONS and top_count >= MAJORITY_SHARE * total:
            label = top
        corrected.append(label)
    return corrected


def _most_common(counts: dict) -> tuple:
    """(value, count) of the most frequent value, the first seen among equals (as
    Counter.most_common)."""
    return max(counts.items(), key=itemgetter(1))
