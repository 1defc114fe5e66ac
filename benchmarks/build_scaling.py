"""Whole-build throughput, memory and reruns as the corpus grows.

The NER benchmark times one stage; this one times what a user waits for. For each
size it writes a corpus of that many real articles (the BBC set, then Reuters-21578,
then seeded perturbations of real articles) to a temporary folder and, on those texts:

1. full build: `newscorpus build` in a subprocess with a fresh output folder (empty
   cache): seconds, articles/s, words/s, peak memory of its process tree (the Prefect
   server and the spaCy workers are its children);
2. bare spaCy `nlp.pipe` over the released article texts (same model, batch size and
   2 processes), just before and just after the build (the machine's speed drifts):
   the floor for the build's parsing; the ratio of the build to the mean of the two
   is what everything besides parsing costs;
3. rerun with nothing changed (same output folder: must print "nothing changed");
4. rerun after 1% new (perturbed) articles are added to the corpus.

Targets: build/bare <= 1.15 at 20,000 articles; peak memory under 2 GB and flat as the
corpus grows; a no-change rerun under 5% of a full build.

Memory is sampled with psutil every second over the build's process tree: PSS (shared
pages split between the processes sharing them, so forked workers are not counted
twice) and RSS summed (an upper bound), and the PSS of the flow's own process, which
holds the dataset-wide steps. Spikes shorter than a sample can be missed. The bare
parse is sampled the same way (its process and spaCy's workers), so that the ~45 ms of
CPU a sample costs is paid on both sides of the ratio.
CPU columns say how busy the machine was: the build's own CPU time and that of every
other process during the same seconds, both in cores.

    .venv/bin/python benchmarks/build_scaling.py [--sizes 1000,2000,5000,20000]
        [--json PATH] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import math
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd
import psutil

from flows.stages.dedupe import deduplicate, exact_key
from flows.stages.ingest.discover import discover_inputs
from flows.stages.parse import BATCH_SIZE, DEFAULT_MODEL, load_pipeline
from flows.stages.prepare import prepare_shard

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora"
BBC = CORPORA / "bbc"
REUTERS = CORPORA / "reuters21578" / "json-data"
NEWSCORPUS = Path(sys.executable).parent / "newscorpus"
# What the Makefile exports for every run.
PREFECT_ENVIRONMENT = {
    "PREFECT_HOME": str(PROJECT_ROOT / ".prefect"),
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
PROCESSES = 2
# A sample reads /proc/PID/smaps_rollup of each process, which walks its page tables:
# about 45 ms of CPU for a 20,000-article build's four processes. Every 0.2 s that took
# a fifth of a core from the build it measured (and slowed it by about a tenth).
SAMPLE_SECONDS = 1.0
SEED = "newscorpus-build-scaling"
MIN_PARAGRAPHS = 3   # of a real article a perturbed one is made from: enough to shuffle
SENTENCES_TAKEN = 2  # sentences of a perturbed article replaced by another article's
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
MB = 2 ** 20
LOG_LINES_SHOWN = 5  # of a failed build's log


@dataclass(frozen=True)
class Article:
    name: str                    # path inside the corpus folder
    raw: bytes                   # the file's bytes
    title: str
    paragraphs: tuple[str, ...]  # one line each: what perturbations rearrange

    @property
    def collection(self) -> str:
        return self.name.split("/")[0]

    @property
    def body_key(self) -> str:
        """The key dedupe folds equal texts by (the title is not part of the text)."""
        return exact_key("\n\n".join(self.paragraphs))


class BuildFailed(Exception):
    """A build exited with an error; the message ends with the end of its log."""


@dataclass
class Timing:
    seconds: float
    cpu_cores: float        # CPU time of the timed processes per second of wall time
    other_cpu_cores: float  # the same for every other process on the machine


@dataclass
class Sampled(Timing):
    peak_pss_mb: float
    peak_rss_mb: float
    sampler_cpu_cores: float  # what sampling the memory cost this process (not in cpu_cores)


@dataclass
class Build(Sampled):
    flow_peak_pss_mb: float  # the flow's own process (the command), without the server and workers
    printed: str            # the command's output: the release, or "nothing changed: ..."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes_list, default="1000,2000,5000,20000",
                        help="corpus sizes in articles, comma-separated (default: %(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--keep", action="store_true",
                        help="keep the corpora, releases and build logs (default: removed)")
    args = parser.parse_args()
    if not (BBC.is_dir() and REUTERS.is_dir()):
        raise SystemExit(f"the BBC and Reuters-21578 corpora are not in {CORPORA}")
    real = real_articles()
    workdir = Path(tempfile.mkdtemp(prefix="build-scaling-"))
    results, failure = [], None
    try:
        for size in args.sizes:
            results.append(measure_size(size, real, workdir / f"size-{size}"))
    except BuildFailed as error:
        failure = str(error)  # stop at the first failure; still report what was measured
    finally:
        if args.keep:
            print(f"corpora, releases and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(report(results, failure), indent=2) + "\n", encoding="utf-8")
    if failure:
        raise SystemExit(failure)


def sizes_list(text: str) -> list[int]:
    return [int(size) for size in text.split(",")]


def real_articles() -> list[Article]:
    """BBC articles (in file order), then Reuters articles with a body (in archive order)."""
    return bbc_articles() + reuters_articles()


def bbc_articles() -> list[Article]:
    articles = []
    for path in sorted(BBC.glob("*/*.txt")):
        raw = path.read_bytes()
        title, _, body = decoded(raw).partition("\n")
        articles.append(Article(f"bbc/{path.parent.name}/{path.name}", raw, title.strip(),
                                paragraphs(re.split(r"\n\s*\n", body))))
    return articles


def decoded(raw: bytes) -> str:
    # One BBC file is Latin-1; the build decodes the file itself, this is only the
    # text perturbations are made from.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def reuters_articles() -> list[Article]:
    """Title and body of each record, as the SGML original has them: entities decoded,
    lines hard-wrapped, paragraphs indented, ending "Reuter" and the end-of-text mark."""
    articles = []
    for path in sorted(REUTERS.glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            if not record.get("body"):
                continue
            title, body = html.unescape(record.get("title") or ""), html.unescape(record["body"])
            articles.append(Article(f"reuters/{path.stem}-{record['attrs']['newid']}.txt",
                                    f"{title}\n\n{body}".encode("utf-8"), title,
                                    paragraphs(re.split(r"\n +", body))))
    return articles


def paragraphs(blocks: list[str]) -> tuple[str, ...]:
    return tuple(" ".join(block.split()) for block in blocks if block.strip())


def perturbed_articles(pool: list[Article], count: int, seed: str, folder: str,
                       taken: set[str]) -> list[Article]:
    """`count` new articles made from real ones in `pool`, the same for the same seed:
    each is a real article with its paragraphs shuffled and a few of its sentences
    replaced by sentences of another article of the same collection. One whose text
    dedupe would fold into an article in `taken` (or an earlier one of these) is made
    again."""
    rng = random.Random(f"{SEED}/{seed}")
    bases = [article for article in pool if len(article.paragraphs) >= MIN_PARAGRAPHS]
    collections: dict[str, list[Article]] = {}
    for article in bases:
        collections.setdefault(article.collection, []).append(article)
    made = []
    while len(made) < count:
        base = rng.choice(bases)
        donor = rng.choice(collections[base.collection])
        body = rng.sample(base.paragraphs, len(base.paragraphs))
        donor_sentences = [s for paragraph in donor.paragraphs for s in SENTENCE_BREAK.split(paragraph)]
        for _ in range(SENTENCES_TAKEN):
            where = rng.randrange(len(body))
            sentences = SENTENCE_BREAK.split(body[where])
            sentences[rng.randrange(len(sentences))] = rng.choice(donor_sentences)
            body[where] = " ".join(sentences)
        text = base.title + "\n\n" + "\n\n".join(body) + "\n"
        article = Article(f"{folder}/{len(made) + 1:06d}.txt", text.encode("utf-8"), base.title,
                          tuple(body))
        if article.body_key not in taken:
            taken.add(article.body_key)
            made.append(article)
    return made


def write_articles(articles: list[Article], corpus: Path) -> None:
    for article in articles:
        path = corpus / article.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(article.raw)


def measure_size(size: int, real: list[Article], folder: Path) -> dict:
    corpus, output, logs = folder / "corpus", folder / "output", folder / "logs"
    logs.mkdir(parents=True)
    load = os.getloadavg()
    started = time.perf_counter()
    taken = {article.body_key for article in real}
    articles = real[:size] + perturbed_articles(real, max(0, size - len(real)), "corpus", "perturbed",
                                                taken)
    write_articles(articles, corpus)
    corpus_seconds = time.perf_counter() - started
    say(size, f"corpus of {size} articles written in {corpus_seconds:.1f} s (load {load[0]:.2f})")

    # Bare parsing just before and just after the build, over the same texts: the
    # machine's speed drifts by 10% and more over minutes, so the ratio is taken
    # against the mean of the two.
    before, parsed = bare_parse(articles_to_parse(corpus))
    say(size, f"bare nlp.pipe before the build {before.seconds:.1f} s over {len(parsed)} articles")
    full = run_build(corpus, output, logs / "full")
    say(size, f"full build {full.seconds:.1f} s, peak PSS {full.peak_pss_mb:.0f} MB")
    released = pd.read_parquet(Path(full.printed) / "articles.parquet",
                               columns=["article_id", "text", "language", "word_count"])
    after, parsed_after = bare_parse(released.sort_values("article_id", ignore_index=True))
    if parsed_after["text"].tolist() != parsed["text"].tolist():
        raise BuildFailed("the release's articles are not the texts the stage functions give")
    bare = Sampled(*(statistics.mean(pair) for pair in zip(astuple(before), astuple(after))))
    say(size, f"bare nlp.pipe after the build {after.seconds:.1f} s")
    unchanged = run_build(corpus, output, logs / "unchanged")
    say(size, f"no-change rerun {unchanged.seconds:.1f} s: {unchanged.printed}")
    added = perturbed_articles(real[:size], math.ceil(size / 100), f"added-{size}", "added", taken)
    write_articles(added, corpus)
    grown = run_build(corpus, output, logs / "added")
    say(size, f"rerun with {len(added)} added articles {grown.seconds:.1f} s: {grown.printed}")

    words, parsed_words = int(released["word_count"].sum()), int(parsed["word_count"].sum())
    return {
        "size": size, "articles released": len(released), "words": words,
        "load average before": [round(x, 2) for x in load], "corpus seconds": corpus_seconds,
        "full build": vars(full) | {"articles/s": size / full.seconds, "words/s": words / full.seconds},
        "bare nlp.pipe": vars(bare) | {"articles parsed": len(parsed),
                                       "words/s": parsed_words / bare.seconds,
                                       "before the build": vars(before), "after the build": vars(after)},
        "build/bare": full.seconds / bare.seconds,
        "no-change rerun": vars(unchanged) | {
            "nothing changed": unchanged.printed.startswith("nothing changed"),
            "share of full build": unchanged.seconds / full.seconds},
        "rerun with 1% added": vars(grown) | {"articles added": len(added)},
    }


def say(size: int, message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] size {size}: {message}", flush=True)


def run_build(corpus: Path, output: Path, log: Path) -> Build:
    """Time `newscorpus build` as a subprocess, sampling its tree's memory until it exits."""
    command = [str(NEWSCORPUS), "build", "--source", str(corpus), "--output", str(output)]
    environment = {**PREFECT_ENVIRONMENT, **os.environ}  # as with make: the caller's settings win
    clock = cpu_clock()
    with open(log.with_suffix(".out"), "w") as stdout, open(log.with_suffix(".err"), "w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment,
                                   cwd=PROJECT_ROOT)
        with MemorySampler(psutil.Process(process.pid)) as memory:
            process.wait()
    timing = memory.sampled(clock())
    if process.returncode:
        tail = log.with_suffix(".err").read_text().splitlines()[-LOG_LINES_SHOWN:]
        raise BuildFailed("\n".join([f"{' '.join(command)} failed:", *tail]))
    return Build(**vars(timing), flow_peak_pss_mb=memory.root_pss / MB,
                 printed=log.with_suffix(".out").read_text().strip())


class MemorySampler(threading.Thread):
    """Every SAMPLE_SECONDS, on a thread of this process, the PSS and RSS of a process
    and its descendants, until the block ends. The build and the bare parse are both
    sampled, so both pay the same for it."""

    def __init__(self, root: psutil.Process):
        super().__init__(daemon=True)
        self.root, self.peak_pss = root, 0
        self.peak_rss = self.root_pss = 0
        self.cpu_seconds = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while True:
            pss, rss, own = tree_memory(self.root)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.root_pss = max(self.root_pss, own)
            self.cpu_seconds = time.thread_time()
            if self._done.wait(SAMPLE_SECONDS):
                return

    def __enter__(self) -> "MemorySampler":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self.join()

    def sampled(self, timing: Timing) -> Sampled:
        """`timing` with the peaks, and without the sampling's CPU (the clock counts it)."""
        sampler = self.cpu_seconds / timing.seconds
        return Sampled(timing.seconds, timing.cpu_cores - sampler, timing.other_cpu_cores,
                       peak_pss_mb=self.peak_pss / MB, peak_rss_mb=self.peak_rss / MB,
                       sampler_cpu_cores=sampler)


def tree_memory(root: psutil.Process) -> tuple[int, int, int]:
    """PSS and RSS of a process and all its descendants, and the PSS of the process
    alone, in bytes."""
    pss = rss = own = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0, 0
    for process in processes:
        try:
            memory = process.memory_full_info()
        except psutil.NoSuchProcess:  # it exited after being listed
            continue
        pss, rss = pss + memory.pss, rss + memory.rss
        own = memory.pss if process is root else own
    return pss, rss, own


def cpu_clock():
    """Start a clock; calling the result stops it and returns the Timing: seconds
    passed, CPU used by this process and its waited-for descendants, and CPU used
    by every other process on the machine meanwhile."""
    own_before, busy_before, started = own_cpu_seconds(), machine_busy_seconds(), time.perf_counter()

    def stop() -> Timing:
        seconds = time.perf_counter() - started
        own = own_cpu_seconds() - own_before
        others = machine_busy_seconds() - busy_before - own
        return Timing(seconds, own / seconds, max(0.0, others) / seconds)

    return stop


def own_cpu_seconds() -> float:
    usages = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(usage.ru_utime + usage.ru_stime for usage in usages)


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    # guest time is already counted in user time
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


def articles_to_parse(corpus: Path) -> pd.DataFrame:
    """The articles a build of `corpus` releases, by the build's own stage functions."""
    tables, _stats = deduplicate(prepare_shard(discover_inputs([str(corpus)])).records)
    return tables["articles"].sort_values("article_id", ignore_index=True)


def bare_parse(articles: pd.DataFrame) -> tuple[Sampled, pd.DataFrame]:
    """Time nlp.pipe over the articles the build parses: those in the model's language.
    The model is loaded before the clock starts; its worker processes start inside.
    Memory is sampled as during the build (this process and the workers)."""
    nlp = load_pipeline(DEFAULT_MODEL)
    parsed = articles[articles["language"] == nlp.lang]
    clock = cpu_clock()
    with MemorySampler(psutil.Process()) as memory:
        for _doc in nlp.pipe(parsed["text"].tolist(), batch_size=BATCH_SIZE, n_process=PROCESSES):
            pass
    return memory.sampled(clock()), parsed


def table(results: list[dict]) -> str:
    header = ("| articles | words | full build s | articles/s | words/s | bare nlp.pipe s, mean (before / after) | build/bare "
              "| peak PSS MB | bare nlp.pipe peak PSS MB | peak RSS MB | flow process peak PSS MB | no-change rerun s | +1% rerun s | build CPU cores "
              "| others' CPU cores, build / bare | sampling CPU cores, build / bare | load before |")
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for r in results:
        full, bare = r["full build"], r["bare nlp.pipe"]
        unchanged, grown = r["no-change rerun"], r["rerun with 1% added"]
        flag = "" if unchanged["nothing changed"] else " (changed!)"
        lines.append(
            f"| {r['size']:,} | {r['words']:,} | {full['seconds']:.1f} | {full['articles/s']:.1f} "
            f"| {full['words/s']:,.0f} | {bare['seconds']:.1f} ({bare['before the build']['seconds']:.1f} "
            f"/ {bare['after the build']['seconds']:.1f}) | {r['build/bare']:.2f} "
            f"| {full['peak_pss_mb']:,.0f} | {bare['peak_pss_mb']:,.0f} | {full['peak_rss_mb']:,.0f} "
            f"| {full['flow_peak_pss_mb']:,.0f} "
            f"| {unchanged['seconds']:.1f} ({unchanged['share of full build']:.0%}){flag} "
            f"| {grown['seconds']:.1f} ({grown['articles added']} added) "
            f"| {full['cpu_cores']:.2f} | {full['other_cpu_cores']:.2f} / {bare['other_cpu_cores']:.2f} "
            f"| {full['sampler_cpu_cores']:.3f} / {bare['sampler_cpu_cores']:.3f} "
            f"| {r['load average before'][0]:.2f} |")
    return "\n".join(lines)


def report(results: list[dict], failure: str | None) -> dict:
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "memory GB": round(psutil.virtual_memory().total / 2 ** 30, 1)},
        "model": DEFAULT_MODEL, "batch size": BATCH_SIZE, "processes": PROCESSES,
        "memory": f"psutil, PSS and RSS summed over the build's process tree every {SAMPLE_SECONDS} s",
        "results": results,
        "failure": failure,
    }


if __name__ == "__main__":
    main()
