"""Matching latency on the shipped knowledge: index build time and per-question p50/p99.

Usage:  python bench/latency.py [--set bench/holdout.yaml] [--repeat 3]

Compares the assistant's matcher with a plain `rapidfuzz.process.extractOne` full scan (WRatio,
default settings) over all paraphrases, on the same questions in the same run. Also prints the
resident memory after loading. (Synthetic 1k-100k paraphrase sets are not part of this script.)
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, ROOT, load_set
from bot.core.knowledge_holder import KnowledgeHolder
from bot.matching.matcher import decide, rank


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=BENCH_DIR / "holdout.yaml")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    holder = KnowledgeHolder(args.knowledge)
    holder.reload()
    load_s = time.perf_counter() - started
    loaded = holder.current
    questions = [item.q for item in load_set(args.set)]
    phrases = [
        p for i in loaded.knowledge.intents.values() for ps in i.paraphrases.values() for p in ps
    ]
    index = loaded.matcher.index
    for question in questions:  # warm the word caches once, as a running bot would have them
        decide(rank(index, question))
    ours, scan = [], []
    for _ in range(args.repeat):
        for question in questions:
            t0 = time.perf_counter()
            decide(rank(index, question))  # Matcher.match without its memo of recent questions
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            process.extractOne(question, phrases)
            scan.append(time.perf_counter() - t0)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"knowledge: {len(loaded.knowledge.intents)} intents, {len(phrases)} paraphrases; "
        f"load + validate + index: {load_s * 1000:.0f} ms; peak RSS {rss_mib:.0f} MiB"
    )
    print(f"questions: {len(questions)} x {args.repeat}")
    for name, samples in (("assistant matcher", ours), ("extractOne full scan", scan)):
        p50, p99 = percentiles(samples)
        print(f"{name:<22} p50 {p50 * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
