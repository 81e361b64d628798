"""Matching at scale: synthetic knowledge of 1k, 10k and 100k paraphrases.

Usage:  python bench/scale.py [--sizes 1000 10000 100000] [--queries 200]

Paraphrases are made from the words of the shipped knowledge (so lengths and vocabulary are
realistic and multilingual), 50 per intent. Queries are other such sentences. Prints index
build time and matcher p50/p99 per query, and the same for a plain `extractOne` full scan.
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

from bench.common import ROOT
from bot.core.knowledge_holder import KnowledgeHolder
from bot.knowledge.model import Intent, Knowledge
from bot.matching.index import MatchIndex
from bot.matching.matcher import Matcher

PER_INTENT = 50


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
    queries = [" ".join(rng.sample(words, rng.randint(5, 14))) for _ in range(400)]
    return Knowledge(intents, {}, dict(base.countries)), queries


def pct(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {1000 * statistics.median(ordered):7.2f} ms  p99 {1000 * p99:7.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    base = KnowledgeHolder(ROOT / "knowledge").current.knowledge
    rng = random.Random(42)
    for size in args.sizes:
        knowledge, queries = synthetic(base, size, rng)
        queries = queries[: args.queries]
        started = time.perf_counter()
        matcher = Matcher(MatchIndex(knowledge))
        build = time.perf_counter() - started
        phrases = [p for i in knowledge.intents.values() for p in i.paraphrases["en"]]
        ours, scan = [], []
        for query in queries:
            t0 = time.perf_counter()
            matcher.match(query)
            ours.append(time.perf_counter() - t0)
        for query in queries[: max(20, args.queries // 10)]:
            t0 = time.perf_counter()
            process.extractOne(query, phrases)
            scan.append(time.perf_counter() - t0)
        print(
            f"{len(phrases):>7} paraphrases: build {build:6.2f} s | matcher {pct(ours)} | "
            f"extractOne scan {pct(scan)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
