"""Matching at scale: synthetic knowledge of 1k, 10k and 100k paraphrases.

Usage:  python bench/scale.py [--sizes 1000 10000 100000] [--queries 400] [--set DEV.yaml]

Paraphrases are made from the words of the shipped knowledge (so lengths and vocabulary are
realistic and multilingual), 50 per intent. Queries are other such sentences, each new to the
matcher (its caches start cold). Prints index build time and matcher p50/p99 per query, and the
same for a plain `extractOne` full scan. The matcher's CPU time (this thread only) is printed
beside its wall-clock time: on a shared machine the wall clock also counts the moments the
scheduler gave the core to another process.

Then accuracy on a labelled set with the shipped knowledge: the assistant (through the same
code as `softlanding match`), the assistant re-ranking every intent instead of the lexical
stage's best few (what the cheap first stage could cost), and the `extractOne` full scan.
Exits 1 if the assistant's top-1 or top-3 is below the full scan's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accuracy import print_table, run_extract_one, score
from bench.common import ROOT, Item, load_set
from bot.cli import _match_line
from bot.core.knowledge_holder import KnowledgeHolder, Loaded
from bot.knowledge.model import Intent, Knowledge
from bot.matching import thresholds as th
from bot.matching.index import MatchIndex
from bot.matching.matcher import Matcher

PER_INTENT = 50
QUERIES = 1000  # generated per size; --queries takes the first ones
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.yaml"


def synthetic(base: Knowledge, size: int, rng: random.Random) -> tuple[Knowledge, list[str]]:
    sentences = [p for i in base.intents.values() for ps in i.paraphrases.values() for p in ps]
    words = [w for s in sentences for w in s.split()]
    answer = next(iter(base.intents.values())).answers
    intents = {}
    for n in range(max(1, size // PER_INTENT)):
        topic_words = rng.sample(words, 12)  # what makes this intent distinctive
        phrases = []
        for _ in range(PER_INTENT):
            length = rng.randint(4, 12)
            picked = rng.sample(topic_words, 3) + rng.sample(words, length - 3)
            rng.shuffle(picked)
            phrases.append(" ".join(picked))
        intents[f"i{n}"] = Intent(
            f"i{n}",
            {"en": f"I{n}"},
            "everyday",
            "any",
            {"en": tuple(phrases)},
            (),
            (),
            (),
            dict(answer),
        )
    queries = [" ".join(rng.sample(words, rng.randint(5, 14))) for _ in range(QUERIES)]
    return Knowledge(intents, {}, dict(base.countries)), queries


def pct(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {1000 * statistics.median(ordered):7.2f} ms  p99 {1000 * p99:7.2f} ms"


def latency(base: Knowledge, size: int, queries: int, rng: random.Random) -> None:
    knowledge, questions = synthetic(base, size, rng)
    questions = questions[:queries]
    started = time.perf_counter()
    matcher = Matcher(MatchIndex(knowledge))
    build = time.perf_counter() - started
    phrases = [p for i in knowledge.intents.values() for p in i.paraphrases["en"]]
    ours, ours_cpu, scan = [], [], []
    for query in questions:
        c0, t0 = time.thread_time(), time.perf_counter()
        matcher.match(query)
        ours.append(time.perf_counter() - t0)
        ours_cpu.append(time.thread_time() - c0)
    for query in questions[: max(20, queries // 10)]:
        t0 = time.perf_counter()
        process.extractOne(query, phrases)
        scan.append(time.perf_counter() - t0)
    print(
        f"{len(phrases):>7} paraphrases: build {build:6.2f} s | matcher {pct(ours)} "
        f"(CPU {pct(ours_cpu)}) | extractOne scan {pct(scan)}",
        flush=True,
    )


def predict(loaded: Loaded, items: list[Item]) -> list[dict]:
    return [_match_line(loaded, item.q) for item in items]


def accuracy(loaded: Loaded, path: Path) -> int:
    """The assistant against a full re-rank and a full extractOne scan; 1 if below the scan."""
    items = load_set(path)
    texts = [
        p for i in loaded.knowledge.intents.values() for ps in i.paraphrases.values() for p in ps
    ]
    ids = [
        i.id for i in loaded.knowledge.intents.values() for ps in i.paraphrases.values() for _ in ps
    ]
    results = {"assistant": score(items, predict(loaded, items))}
    shipped_top = th.RERANK_TOP
    th.RERANK_TOP = len(loaded.knowledge.intents)  # a fresh matcher: no remembered results
    try:
        every = Loaded(loaded.knowledge, Matcher(loaded.matcher.index))
        results["rerank-all"] = score(items, predict(every, items))
    finally:
        th.RERANK_TOP = shipped_top
    results["extractOne"] = score(items, run_extract_one(items, texts, ids))
    print(
        f"\naccuracy on {path} ({len(items)} questions), shipped knowledge ({len(texts)} phrases)"
    )
    print_table(results)
    ours, scan = results["assistant"], results["extractOne"]
    return 0 if ours["top1"] >= scan["top1"] and ours["top3"] >= scan["top3"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--set", type=Path, default=DEV_SET, help="labelled questions (YAML)")
    args = parser.parse_args(argv)
    loaded = KnowledgeHolder(ROOT / "knowledge").current
    rng = random.Random(42)
    for size in args.sizes:
        latency(loaded.knowledge, size, args.queries, rng)
    if not args.set.exists():
        print(f"\n{args.set} not found: accuracy not measured")
        return 0
    return accuracy(loaded, args.set)


if __name__ == "__main__":
    raise SystemExit(main())
