"""Stage 4, deduplicate: fold inputs that carry the same article into one.

Exact duplicates are texts that are equal once case, whitespace and the style of
quotation marks are set aside. Of each group one input is kept, chosen by a fixed
order (earliest date, then the most metadata, then the smallest source URI), so
reruns keep the same one; the others become `duplicate` rows of `sources`.

Near duplicates (`deduplicate_near`, run on the output of `deduplicate_exact`) are
accepted articles that share most of their word shingles with another accepted one:
the same story with small edits. Each is folded into the article it duplicates, with
the measured similarity.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from itertools import chain

import numpy as np
import pandas as pd

from schemas import conform

QUOTE_STYLES = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
})
METADATA_COLUMNS = ["title", "published_date", "outlet", "url", "dateline"]


def article_id_for(source_uri: str) -> str:
    """Stable id of the article kept from `source_uri`."""
    return hashlib.sha256(f"newscorpus/article/{source_uri}".encode()).hexdigest()[:16]


def exact_key(text: str) -> str:
    if not text.isascii() or "`" in text:  # the only quote styles to set aside
        text = text.translate(QUOTE_STYLES)
    # split() splits on what \s matches: runs of whitespace become one space.
    folded = " ".join(text.casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def deduplicate_exact(records: pd.DataFrame) -> pd.DataFrame:
    """Add `status`, `article_id`, `reason` and `similarity` to every record.

    `records` has one row per input: `source_uri`, `reason` (set when ingest or
    cleaning rejected it) and, for usable ones, the article columns.
    """
    records = records.copy()
    usable = records["reason"].isna()
    records["status"] = "rejected"
    records["article_id"] = None
    records["similarity"] = None
    candidates = records[usable].assign(
        _key=lambda df: df["text"].map(exact_key),
        _missing=lambda df: df[METADATA_COLUMNS].isna().sum(axis=1),
        _undated=lambda df: df["published_date"].isna(),
    )
    # After this sort the first row of each key group is the one kept.
    candidates = candidates.sort_values(
        ["_key", "_undated", "published_date", "_missing", "source_uri"], na_position="last")
    kept = candidates.drop_duplicates("_key")
    kept_of_key = dict(zip(kept["_key"], kept["source_uri"]))
    titles = dict(zip(kept["source_uri"], kept["title"]))
    kept_uris = [kept_of_key[key] for key in candidates["_key"]]
    ids = {uri: article_id_for(uri) for uri in kept_of_key.values()}
    # Whole columns at once: setting cells one by one copies an Arrow column each time.
    records.loc[candidates.index, "article_id"] = [ids[uri] for uri in kept_uris]
    duplicate = np.array([uri != kept for uri, kept in zip(candidates["source_uri"], kept_uris)], dtype=bool)
    records.loc[candidates.index, "status"] = np.where(duplicate, "duplicate", "accepted")
    folded = candidates[duplicate]
    records.loc[folded.index, "reason"] = [
        f"exact duplicate of {kept}" + ("" if title == titles[kept] else " (same text, other title)")
        for title, kept in zip(folded["title"], np.array(kept_uris, dtype=object)[duplicate])]
    records.loc[folded.index, "similarity"] = 1.0
    return records


# Near duplicates ---------------------------------------------------------------------
#
# The same story with small edits (a syndicated copy, a correction, other boilerplate)
# shares most of its word shingles (runs of SHINGLE_WORDS words) with the original.
# MinHash + LSH banding, after ChenghaoMou/text-dedup: each article's shingle set is
# summarised by PERMUTATIONS minimum hashes; articles that agree on every row of at
# least one of BANDS bands are candidate pairs; each candidate is verified with the
# exact Jaccard similarity of the two shingle sets, so the estimate only decides what
# is compared, never what is folded. Every hash is fixed (blake2b of the word, seeded
# multiply-shift permutations), never Python's hash(), which is salted per process.

NEAR_DUPLICATE_THRESHOLD = 0.8
# Measured on the 20,784 BBC and Reuters articles left by exact dedupe (all pairs >= 0.8,
# exact join): 3 or 4 words also fold template wires that differ in a figure (the Fed's
# "adds reserves" notes of different days; 43 and 21 more pairs), 6 or 7 lose corrected
# short wires (a ticker dropped; 14 and 22 fewer); 5 keeps those and folds 5 such notes.
SHINGLE_WORDS = 5
# 16 bands of 4 rows: candidates with probability 1 - (1 - s^4)^16, 99.98% at s = 0.8. At
# 100,000 benchmark articles they held all 3,713 pairs >= 0.8 (exact join) for 1.3 s of
# MinHash + LSH; 48 permutations missed 1, 32 missed 16, 128 found no more in 2.6 s.
PERMUTATIONS = 64
BANDS = 16
NEAR_SEED = "newscorpus/near-dedupe"
WORDS = re.compile(r"[^\W_]+")
# Every ASCII byte that is not a letter or digit becomes a space (for `words_of`).
_ASCII_SEPARATORS = bytes(b if chr(b).isalnum() else 0x20 for b in range(128)) + bytes(range(128, 256))
_SHINGLE_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: mixes word hashes in order
_TEXTS_PER_CHUNK = 5000                             # tokenised at a time: bounds memory
_SHINGLES_PER_BLOCK = 1 << 17                       # hashed at a time: 1 MB, in the CPU cache
_STAT = "near_dedupe."


def stable_hash(data: bytes) -> int:
    """64-bit hash of `data`, the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def words_of(text: str) -> list[bytes]:
    """The words shingles are made of, as UTF-8: runs of letters and digits, case folded,
    so punctuation, quotation marks and whitespace do not count."""
    lowered = text.casefold()
    if lowered.isascii():  # most texts: the same words, twice as fast as the regex
        return lowered.encode("ascii").translate(_ASCII_SEPARATORS).split()
    return [word.encode("utf-8") for word in WORDS.findall(lowered)]


class _WordHashes(dict):
    """stable_hash of each word, computed once per word."""

    def __missing__(self, word: bytes) -> int:
        value = self[word] = stable_hash(word)
        return value


def shingles_of(texts: list[str], size: int = SHINGLE_WORDS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hashes of every text's word shingles, concatenated; each text's start in
    them (`offsets`, one more than texts: text i has offsets[i]:offsets[i+1]); and
    each text's number of words. Texts are read a chunk at a time, to bound memory."""
    known = _WordHashes()
    parts, shingle_counts, word_counts = [], [], []
    for start in range(0, len(texts), _TEXTS_PER_CHUNK):
        words = [words_of(text) for text in texts[start:start + _TEXTS_PER_CHUNK]]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        hashes = np.fromiter(map(known.__getitem__, chain.from_iterable(words)), dtype=np.uint64,
                             count=int(lengths.sum()))
        shingles, counts = shingle_hashes(hashes, lengths, size)
        parts.append(shingles)
        shingle_counts.append(counts)
        word_counts.append(lengths)
    if not parts:
        return np.zeros(0, np.uint64), np.zeros(1, np.int64), np.zeros(0, np.int64)
    counts = np.concatenate(shingle_counts)
    return (np.concatenate(parts), np.concatenate([[0], np.cumsum(counts)]),
            np.concatenate(word_counts))


def shingle_hashes(words: np.ndarray, lengths: np.ndarray,
                   size: int = SHINGLE_WORDS) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the shingles (`size` consecutive words) of texts whose word hashes
    are `words`, `lengths` words each, and how many each text has. A text shorter
    than `size` words is one shingle of all its words; one without words has none."""
    end = np.repeat(np.cumsum(lengths), lengths)        # end of each word's text
    position = np.arange(len(words))
    hashes = words.copy()
    for step in range(1, size):
        inside = position + step < end
        following = words[np.minimum(position + step, max(len(words) - 1, 0))]
        hashes = np.where(inside, hashes * _SHINGLE_MULTIPLIER + following, hashes)
    short = np.repeat(lengths < size, lengths)
    first = position == end - np.repeat(lengths, lengths)
    keep = (position + size <= end) | (short & first)
    counts = np.where(lengths >= size, lengths - size + 1, np.minimum(lengths, 1))
    return hashes[keep], counts


def permutations(count: int = PERMUTATIONS) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of `count` multiply-shift hash functions h(x) = (a*x + b) mod 2^64 >> 32,
    a odd: fixed by NEAR_SEED."""
    a = [stable_hash(f"{NEAR_SEED}/a/{i}".encode()) | 1 for i in range(count)]
    b = [stable_hash(f"{NEAR_SEED}/b/{i}".encode()) for i in range(count)]
    return np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)


def minhash_signatures(shingles: np.ndarray, offsets: np.ndarray,
                       count: int = PERMUTATIONS) -> np.ndarray:
    """(texts, count) uint32: for each text and hash function, the smallest hash of
    its shingles. Every text must have at least one shingle."""
    a, b = permutations(count)
    signatures = np.empty((count, len(offsets) - 1), dtype=np.uint32)
    # Texts a block at a time, so the block's hashes stay in the CPU cache for all functions.
    bounds = np.searchsorted(offsets, np.arange(0, offsets[-1], _SHINGLES_PER_BLOCK), side="right") - 1
    bounds = np.unique(np.concatenate([bounds, [len(offsets) - 1]]))
    for first, last in zip(bounds[:-1], bounds[1:]):
        block = shingles[offsets[first]:offsets[last]]
        starts = offsets[first:last] - offsets[first]
        buffer = np.empty_like(block)
        for column in range(count):
            np.multiply(block, a[column], out=buffer)
            np.add(buffer, b[column], out=buffer)
            np.right_shift(buffer, np.uint64(32), out=buffer)
            signatures[column, first:last] = np.minimum.reduceat(buffer, starts)
    return signatures.T


def candidate_pairs(signatures: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """(pairs, 2) int64, i < j: the texts that agree on every row of at least one band."""
    texts, width = signatures.shape
    rows = width // bands
    found = []
    for band in range(bands):
        key = np.zeros(texts, dtype=np.uint64)
        for column in signatures[:, band * rows:(band + 1) * rows].T:
            key = key * _SHINGLE_MULTIPLIER + column.astype(np.uint64)
        found.append(bucket_pairs(key))
    codes = np.unique(np.concatenate(found)) if texts else np.zeros(0, dtype=np.int64)
    return np.stack([codes // max(texts, 1), codes % max(texts, 1)], axis=1)


def bucket_pairs(key: np.ndarray) -> np.ndarray:
    """Every pair of texts with the same key, as i * len(key) + j with i < j."""
    if len(key) < 2:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    new = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    group = np.cumsum(new) - 1
    size = np.bincount(group)
    shared = size[group] > 1
    order, group = order[shared], group[shared]
    end = np.searchsorted(group, group, side="right")    # end of each member's bucket
    position = np.arange(len(order))
    after = end - position - 1                            # members after it in its bucket
    left = np.repeat(position, after)
    right = left + 1 + np.arange(after.sum()) - np.repeat(np.cumsum(after) - after, after)
    i, j = order[left], order[right]
    return np.minimum(i, j).astype(np.int64) * len(key) + np.maximum(i, j)


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Jaccard similarity of two sets given as sorted arrays of unique values."""
    shared = np.intersect1d(first, second, assume_unique=True).size
    return shared / (first.size + second.size - shared)


def verified_pairs(pairs: np.ndarray, shingles: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The exact Jaccard similarity of the shingle sets of each pair."""
    sets: dict[int, np.ndarray] = {}

    def shingle_set(text: int) -> np.ndarray:
        if text not in sets:
            sets[text] = np.unique(shingles[offsets[text]:offsets[text + 1]])
        return sets[text]

    return np.array([jaccard(shingle_set(i), shingle_set(j)) for i, j in pairs.tolist()],
                    dtype=np.float64)


def fold_greedily(pairs: np.ndarray, similarity: np.ndarray, threshold: float,
                  texts: int) -> tuple[np.ndarray, np.ndarray]:
    """Which text each text is folded into (-1: kept), and how similar they are.

    Texts are numbered in keep order. They are visited in that order: a text at least
    `threshold` similar to one already kept is folded into the kept one it is most
    similar to (on a tie, the earlier in keep order); otherwise it is kept. So a
    text is only ever folded into a kept text it is itself similar to: in a chain
    A~B~C with A!~C, B folds into A and C is kept (or folds into another kept text)."""
    into = np.full(texts, -1, dtype=np.int64)
    measured = np.full(texts, np.nan)
    close = similarity >= threshold
    pairs, similarity = pairs[close], similarity[close]
    # By later text, then most similar first, then earlier kept text first.
    order = np.lexsort((pairs[:, 0], -similarity, pairs[:, 1]))
    for (earlier, later), value in zip(pairs[order].tolist(), similarity[order].tolist()):
        if into[later] == -1 and into[earlier] == -1:
            into[later], measured[later] = earlier, value
    return into, measured


def keep_order(articles: pd.DataFrame, words: np.ndarray) -> np.ndarray:
    """Positions of `articles` in the order the kept one of a group is chosen by:
    earliest published_date (undated last), then most words, then smallest source_uri."""
    ranked = pd.DataFrame({
        "undated": articles["published_date"].isna().to_numpy(),
        "date": articles["published_date"].to_numpy(),
        "words": -words,
        "source_uri": articles["source_uri"].to_numpy(),
        "position": np.arange(len(articles)),
    }).sort_values(["undated", "date", "words", "source_uri"], na_position="last")
    return ranked["position"].to_numpy()


def similarity_text(similarity: float) -> str:
    """87% (rounded down, so a share just under 100% is not shown as 100%)."""
    return f"{math.floor(similarity * 100 + 1e-9)}% of word shingles shared"


def deduplicate_near(records: pd.DataFrame, threshold: float = NEAR_DUPLICATE_THRESHOLD,
                     stats: Counter | None = None) -> pd.DataFrame:
    """Fold `accepted` records that are near duplicates of another accepted record.

    Runs on the output of `deduplicate_exact`. A near duplicate becomes a `duplicate`
    of the article it is folded into (see `fold_greedily`: kept by `keep_order`, and
    at least `threshold` Jaccard-similar in word shingles), with its `similarity` and a
    reason such as "near duplicate of bbc/tech/123.txt: 87% of word shingles shared".
    Exact duplicates of a folded article follow it to the kept one. Rejected rows and
    other duplicates are left alone. `stats`, if given, gets the counts (keys
    "near_dedupe.<metric>", as the shard statistics)."""
    records = records.copy()
    stats = Counter() if stats is None else stats
    articles = records[records["status"] == "accepted"]
    shingles, offsets, words = shingles_of(articles["text"].tolist())
    order = keep_order(articles, words)
    order = order[np.diff(offsets)[order] > 0]  # a text without words is left alone
    shingles, offsets = reordered(shingles, offsets, order)
    pairs, similarity = similar_pairs(shingles, offsets, stats)
    stats[f"{_STAT}verified pairs"] += int((similarity >= threshold).sum())
    into, measured = fold_greedily(pairs, similarity, threshold, len(order))
    folded = np.flatnonzero(into >= 0)
    uris, index = articles["source_uri"].to_numpy()[order], articles.index.to_numpy()[order]
    fold(records, index[folded], uris[folded], uris[into[folded]], measured[folded], stats)
    return records


def similar_pairs(shingles: np.ndarray, offsets: np.ndarray,
                  stats: Counter) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs of texts (MinHash + LSH) and their exact similarity."""
    texts = len(offsets) - 1
    signatures = minhash_signatures(shingles, offsets) if texts else np.zeros((0, PERMUTATIONS), np.uint32)
    pairs = candidate_pairs(signatures)
    stats.update({f"{_STAT}articles compared": texts, f"{_STAT}shingles": len(shingles),
                  f"{_STAT}candidate pairs": len(pairs)})
    return pairs, verified_pairs(pairs, shingles, offsets)


def fold(records: pd.DataFrame, index: np.ndarray, uris: np.ndarray, kept_uris: np.ndarray,
         similarity: np.ndarray, stats: Counter) -> None:
    """Make the records at `index` (of `uris`) near duplicates of `kept_uris`, in place,
    with the exact duplicates that were folded into them."""
    kept_ids = [article_id_for(uri) for uri in kept_uris]
    records["similarity"] = records["similarity"].astype(object)
    records.loc[index, "status"] = "duplicate"
    records.loc[index, "article_id"] = kept_ids
    records.loc[index, "reason"] = [f"near duplicate of {uri}: {similarity_text(value)}"
                                    for uri, value in zip(kept_uris, similarity)]
    records.loc[index, "similarity"] = similarity.tolist()
    stats[f"{_STAT}near duplicates"] += len(index)
    moved = {article_id_for(uri): (kept_id, kept, value) for uri, kept_id, kept, value in
             zip(uris, kept_ids, kept_uris, similarity.tolist())}
    followers = records[(records["status"] == "duplicate") & records["article_id"].isin(list(moved))]
    targets = [moved[article_id] for article_id in followers["article_id"]]
    # Whole columns at once, as in deduplicate_exact.
    records.loc[followers.index, "article_id"] = [kept_id for kept_id, _, _ in targets]
    records.loc[followers.index, "reason"] = [
        f"{reason}, itself a near duplicate of {kept}: {similarity_text(value)}"
        for reason, (_, kept, value) in zip(followers["reason"], targets)]
    records.loc[followers.index, "similarity"] = [value for _, _, value in targets]
    stats[f"{_STAT}exact duplicates moved"] += len(followers)


def reordered(values: np.ndarray, offsets: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The segments of `values` (text i is offsets[i]:offsets[i+1]) in `order`."""
    lengths = np.diff(offsets)[order]
    starts = offsets[:-1][order]
    new_offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    take = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return values[take], new_offsets


def split_tables(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The `articles` and `sources` tables from deduplicated records."""
    accepted = records[records["status"] == "accepted"]
    folded = records.loc[records["status"] == "duplicate", "article_id"].value_counts()
    articles = accepted.assign(duplicates=accepted["article_id"].map(folded).fillna(0).astype(int))
    return {
        "articles": conform("articles", articles),
        "sources": conform("sources", records),
    }


def deduplicate(records: pd.DataFrame, near_threshold: float = NEAR_DUPLICATE_THRESHOLD
                ) -> tuple[dict[str, pd.DataFrame], Counter]:
    """articles and sources: exact, then near duplicates folded; and near dedupe's counts."""
    stats = Counter()
    return split_tables(deduplicate_near(deduplicate_exact(records), near_threshold, stats)), stats
