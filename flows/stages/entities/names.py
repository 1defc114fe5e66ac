"""Names: what two spellings of one name share, the node of the dataset's graph of
names each mention is, and the rules that join nodes: within an article (a short name
to the full name it abbreviates, an acronym to its long form, "also known as"), and
across the dataset (transliterations, a surname the dataset gives one person).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

from flows.stages.mentions import ACRONYM_DEFINITION, initials_match

ARABIC_ARTICLE_PREFIX = re.compile(r"\b(?:al|el|ad|an|ar|as|ash|at|az)-\s?")


TRANSLITERATION_MIN_CHARS = 4


KNIGHTED = re.compile(r"\b(?:Sir|Dame)\s+$")


SURNAME_VARIANT_MIN_CHARS = 7  # "Davis"/"Davies" are two names; "Soleimani"/"Suleimani" one


ALSO_KNOWN_AS = re.compile(
    r",?\s+\(?(?:(?:also|otherwise|better|sometimes)\s+(?:known|called|referred to)\s+as"
    r"|(?:whose\s+)?real\s+name(?:\s+is)?|a\.?k\.?a\.?)\s+", re.IGNORECASE)


# What may stand between the names of one list: "the PMF (PMF) and Hashd al-Shaabi".
LIST_GAP = re.compile(r"[\s(),]*(?:(?:the|and|or)\s+[\s(),]*)*")


Node = tuple[str, str]  # (label, name key)


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


def article_nodes(rows: list[Mention], text: str) -> tuple[list[Node], dict[str, Node]]:
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


def also_known_as(rows: list[Mention], nodes: list[Node], text: str) -> list[tuple[Node, Node]]:
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


def join_transliterations(graph: "UnionFind") -> None:
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


def join_unique_surnames(graph: "UnionFind") -> None:
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


def most_complete(counts: dict[str, int]) -> str:
    """The canonical name: most words, then most used, then longest, then first in order."""
    return min(counts, key=lambda s: (-len(name_key(s).split()), -counts[s], -len(s), s))


class UnionFind:
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
