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

import csv
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from flows import workers
from flows.ingest import InputError
from flows.mentions import ACRONYM_DEFINITION, initials_match
from schemas.tables import NAMED_LABELS

CURATED_ALIASES = Path(__file__).with_name("aliases.tsv")
ARABIC_ARTICLE_PREFIX = re.compile(r"\b(?:al|el|ad|an|ar|as|ash|at|az)-\s?")
MAJORITY_SHARE, MAJORITY_MIN_MENTIONS = 0.75, 3
TRANSLITERATION_MIN_CHARS = 4
KNIGHTED = re.compile(r"\b(?:Sir|Dame)\s+$")
SURNAME_VARIANT_MIN_CHARS = 7  # "Davis"/"Davies" are two names; "Soleimani"/"Suleimani" one
ALSO_KNOWN_AS = re.compile(
    r",?\s+\(?(?:(?:also|otherwise|better|sometimes)\s+(?:known|called|referred to)\s+as"
    r"|(?:whose\s+)?real\s+name(?:\s+is)?|a\.?k\.?a\.?)\s+", re.IGNORECASE)

# What may stand between the names of one list: "the PMF (PMF) and Hashd al-Shaabi".
LIST_GAP = re.compile(r"[\s(),]*(?:(?:the|and|or)\s+[\s(),]*)*")

Node = tuple[str, str]  # (label, name key)
ENTITY_COLUMNS = ["entity_id", "name", "label", "aliases", "mentions", "articles"]


@dataclass(frozen=True)
class Alias:
    name: str
    label: str
    alias: str


class AliasFileError(InputError):
    """An alias file cannot be read or is not in the documented format."""


def load_aliases(paths: list[Path] | None = None) -> list[Alias]:
    """The curated alias file, then any files users add, in the same TSV format."""
    aliases = []
    for path in [CURATED_ALIASES, *(paths or [])]:
        try:
            content = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise AliasFileError(f"alias file {path}: {error}") from error
        lines = [line for line in content.splitlines() if line.strip() and not line.startswith("#")]
        for number, row in enumerate(csv.reader(lines, delimiter="\t"), start=1):
            if len(row) != 3 or row[1].strip() not in NAMED_LABELS:
                raise AliasFileError(
                    f"alias file {path}, entry {number}: expected name, label and alias separated "
                    f"by tabs, the label one of {', '.join(sorted(NAMED_LABELS))}; got {row!r}")
            aliases.append(Alias(*(field.strip() for field in row)))
    return aliases


@lru_cache(maxsize=1 << 16)
def name_key(surface: str) -> str:
    """What two spellings of one name share: no accents, case, dots, possessive,
    Arabic article prefixes, hyphens or extra spaces."""
    text = unicodedata.normalize("NFKD", surface)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['’]s?$", "", text.replace("’", "'"))
    text = ARABIC_ARTICLE_PREFIX.sub("", text.replace(".", ""))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def entity_id_for(label: str, name: str) -> str:
    return hashlib.sha256(f"newscorpus/entity/{label}/{name_key(name)}".encode()).hexdigest()[:16]


class Mention(NamedTuple):
    article_id: str
    start: int
    end: int
    text: str
    label: str
    key: str


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
                  aliases: list[Alias], processes: int = 1) -> EntityLinker:
    """An EntityLinker that has counted and added every article: `read(chunk)` gives
    the mentions and text of each article of a chunk, for each of `chunks` in order.
    With `processes` > 1, the chunks are read, counted and named in that many forked
    workers, and the linker here adds up what they found, in order."""
    linker = EntityLinker(aliases)
    for labels in workers.each_forked(lambda chunk: LabelCounts.of(rows for rows, _ in read(chunk)),
                                      chunks, processes):
        linker.count(labels)
    linker.counted()
    for names in workers.each_forked(lambda chunk: [linker.article_names(rows, text) for rows, text in read(chunk)],
                                     chunks, processes):
        for article in names:
            linker.add(article)
    linker.finish()
    return linker


def mention_rows(rows: list[dict]) -> list[Mention]:
    """Mentions as flows.mentions extracts them (dicts), for EntityLinker."""
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
        self._graph = _UnionFind()
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
        nodes, acronyms = _article_nodes(rows, text)
        return ArticleNames([row.label for row in rows], [row.text for row in rows], nodes, acronyms,
                            _also_known_as(rows, nodes, text))

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
        _join_transliterations(graph)
        _join_unique_surnames(graph)
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
        name_of = {c: curated_name.get(c) or _most_complete(surfaces[c]) for c in labels}
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
        nodes, _ = _article_nodes(self._relabelled(rows), text)
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


def _article_nodes(rows: list[Mention], text: str) -> tuple[list[Node], dict[str, Node]]:
    """The dataset-wide node of each mention of one article, and the acronyms it defines."""
    defined = _acronym_definitions(rows, text)
    full_names = [(row.start, row.key) for row in rows
                  if row.label == "PERSON" and len(row.key.split()) > 1]
    nodes = []
    for row in rows:
        if row.key in defined:
            nodes.append(defined[row.key])
        elif row.label == "PERSON":
            nodes.append(("PERSON", _full_name(row, full_names, _knighted(text, row))))
        else:
            nodes.append((row.label, row.key))
    return nodes, defined


def _full_name(row: Mention, full_names: list[tuple[int, str]], first_name: bool = False) -> str:
    """The full name a short PERSON name abbreviates in its article: the nearest
    earlier mention whose last words are these (or, for a `first_name`, whose first
    words are), else the nearest later one."""
    words = row.key.split()
    candidates = [(start, key) for start, key in full_names if len(key.split()) > len(words)
                  and (key.split()[:len(words)] if first_name else key.split()[-len(words):]) == words]
    if not candidates:
        return row.key
    earlier = [c for c in candidates if c[0] < row.start]
    return max(earlier)[1] if earlier else min(candidates)[1]


def _knighted(text: str, row: Mention) -> bool:
    """ "Sir Edward", "Dame Judi": a knight or dame is called by the first name."""
    return " " not in row.key and KNIGHTED.search(text, max(0, row.start - 6), row.start) is not None


def _acronym_definitions(rows, text: str) -> dict[str, Node]:
    """Acronyms the article defines right after a name: "Popular Mobilization Units (PMU)"."""
    defined = {}
    for row in rows:
        match = ACRONYM_DEFINITION.match(text, row.end)
        if match and row.label != "PERSON" and initials_match(match[1], row.text):
            defined[name_key(match[1])] = (row.label, row.key)
    return defined


def _also_known_as(rows: list[Mention], nodes: list[Node], text: str) -> list[tuple[Node, Node]]:
    """Pairs of nodes an article says are one: "the PMU, also known as the PMF and Hashd
    al-Shaabi" joins PMU with PMF and with Hashd al-Shaabi."""
    if not _may_say_also_known_as(text):
        return []
    spans = [(row.start, row.end, node) for row, node in zip(rows, nodes)]
    pairs = []
    for phrase in ALSO_KNOWN_AS.finditer(text):
        before = [s for s in spans if s[1] <= phrase.start() and
                  re.fullmatch(r"[\s,()A-Za-z.]{0,12}", text[s[1]:phrase.start()])]
        if not before:
            continue
        left = max(before)[2]
        position = phrase.end()
        for start, end, node in sorted(spans):
            if start < position:
                continue
            if not LIST_GAP.fullmatch(text[position:start]):
                break
            pairs.append((left, node))
            position = end
    return pairs


def _may_say_also_known_as(text: str) -> bool:
    """False only where ALSO_KNOWN_AS cannot match (searching with it is slow: it may
    begin at any space); "a.k.a" stays "aka" with its dots removed."""
    lowered = text.lower()
    return any(word in lowered for word in ("known", "called", "referred", "real")) \
        or "aka" in lowered.replace(".", "")


def _join_transliterations(graph: "_UnionFind") -> None:
    """Join person names whose words agree but for the vowels of a transliteration."""
    buckets: dict[tuple, list[Node]] = defaultdict(list)
    for node in graph.nodes():
        label, key = node
        words = key.split()
        if label == "PERSON" and len(words) > 1:
            buckets[tuple(_skeleton(w) for w in words)].append(node)
    for nodes in buckets.values():
        for i, first in enumerate(nodes):
            for second in nodes[i + 1:]:
                if _transliteration(first[1], second[1]):
                    graph.union(first, second)


def _join_unique_surnames(graph: "_UnionFind") -> None:
    """A bare surname no article resolved joins the one person of the dataset who has
    it; with two people of that surname ("Jeff Davis", "Ryan Davis") it stays apart."""
    people_by_surname: dict[str, set[Node]] = defaultdict(set)
    for label, key in graph.nodes():
        if label == "PERSON" and " " in key:
            people_by_surname[key.split()[-1]].add(graph.find((label, key)))
    for label, key in graph.nodes():
        people = people_by_surname.get(key, set())
        if label == "PERSON" and " " not in key and len(people) == 1:
            graph.union((label, key), next(iter(people)))


def _skeleton(word: str) -> str:
    return re.sub(r"[aeiouy]+", "*", word)


def _transliteration(a: str, b: str) -> bool:
    words = list(zip(a.split(), b.split()))
    *given, (surname_a, surname_b) = words
    if surname_a != surname_b and min(len(surname_a), len(surname_b)) < SURNAME_VARIANT_MIN_CHARS:
        return False
    return all(x == y or min(len(x), len(y)) >= TRANSLITERATION_MIN_CHARS for x, y in given)


def _most_common(counts: dict) -> tuple:
    """(value, count) of the most frequent value, the first seen among equals (as
    Counter.most_common)."""
    return max(counts.items(), key=itemgetter(1))


def _most_complete(counts: dict[str, int]) -> str:
    """The canonical name: most words, then most used, then longest, then first in order."""
    return min(counts, key=lambda s: (-len(name_key(s).split()), -counts[s], -len(s), s))


class _UnionFind:
    def __init__(self):
        self._parent: dict[Node, Node] = {}

    def add(self, node: Node) -> None:
        self._parent.setdefault(node, node)

    def find(self, node: Node) -> Node:
        self.add(node)
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:
            self._parent[node], node = root, self._parent[node]
        return root

    def union(self, a: Node, b: Node) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # The smaller node becomes the root, so the result does not depend on order.
            low, high = sorted((root_a, root_b))
            self._parent[high] = low

    def nodes(self) -> list[Node]:
        return sorted(self._parent)
