"""Calibrate the matcher's weights and score bands on a labelled set.

Usage:  python bench/calibrate.py --set ../shared/eval/dev.yaml [--knowledge knowledge/]

Computes each question's candidate signals once (BM25, coverage, fuzzy), then searches the
weights of bot/matching/thresholds.py and the answer/suggest bands. Prints the current
setting's figures and the best settings found; copy the chosen ones into thresholds.py by hand.
Objective: top-1 first; then, among band settings that send at most 10% of in-scope questions
to "unknown", the most right answers plus rejected out-of-scope questions.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_SET, ROOT, Item, load_set
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.understanding import smalltalk_kind
from bot.matching import thresholds as th
from bot.matching.matcher import Candidate, decide, fuzzy_score, lexical_scores
from bot.matching.normalize import normalize

Signals = list[tuple[str, float, float, float]]  # intent, bm25 share, coverage, fuzzy


def signals(index, question: str) -> Signals:
    lexical = lexical_scores(index, question)
    top = sorted(lexical.bm25.items(), key=lambda kv: (-kv[1], kv[0]))[: th.RERANK_TOP]
    if not top:
        return []
    best = top[0][1]
    text = normalize(question)
    return [(i, s / best, lexical.coverage[i], fuzzy_score(index, text, i) / 100) for i, s in top]


def ranked(sig: Signals, w: tuple[float, float, float]) -> list[Candidate]:
    """The matcher's ranking and confidence (see bot/matching/matcher.py) for weights `w`."""
    out = [
        Candidate(
            i,
            round(100 * (w[0] * b + w[1] * c + w[2] * f) / sum(w), 2),
            round(100 * (w[1] * c + w[2] * f) / max(1e-9, w[1] + w[2]), 2),
        )
        for i, b, c, f in sig
    ]
    return sorted(out, key=lambda c: (-c.score, c.intent_id))


def evaluate(items: list[Item], sigs: list[Signals], w, bands) -> dict[str, float]:
    answer_at, suggest_at, lead = bands
    saved = (th.ANSWER_AT, th.SUGGEST_AT, th.MIN_LEAD)
    th.ANSWER_AT, th.SUGGEST_AT, th.MIN_LEAD = answer_at, suggest_at, lead
    try:
        n = top1 = unknown = right = oos = oos_ok = 0
        for item, sig in zip(items, sigs, strict=True):
            if sig is None:
                continue
            result = decide(ranked(sig, w))
            if item.expect == "OUT_OF_SCOPE":
                oos += 1
                oos_ok += result.outcome != "answer"
                continue
            n += 1
            top1 += result.intent_id == item.expect
            unknown += result.outcome == "unknown"
            right += result.outcome == "answer" and result.intent_id == item.expect
    finally:
        th.ANSWER_AT, th.SUGGEST_AT, th.MIN_LEAD = saved
    return {
        "top1": top1 / n,
        "unknown": unknown / n,
        "right": right / n,
        "oos": oos_ok / max(1, oos),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    args = parser.parse_args(argv)
    loaded = KnowledgeHolder(args.knowledge).current
    items = [i for i in load_set(args.set) if i.expect != "SMALLTALK"]
    sigs: list[Signals | None] = []
    for item in items:
        kind, rest = smalltalk_kind(loaded.knowledge, item.q)
        sigs.append(None if kind and not rest else signals(loaded.matcher.index, item.q))
    current_w = (th.BM25_WEIGHT, th.COVERAGE_WEIGHT, th.FUZZY_WEIGHT)
    current_b = (th.ANSWER_AT, th.SUGGEST_AT, th.MIN_LEAD)
    print("current", current_w, current_b, evaluate(items, sigs, current_w, current_b))
    weights = [
        (b, c, f) for b in (0.5, 1.0) for c in (0.5, 1.0, 1.5) for f in (0.0, 0.25, 0.5, 1.0)
    ]
    bands = list(itertools.product(range(30, 70, 2), range(20, 50, 4), (0.0, 2.0, 4.0)))
    results = []
    for w in weights:
        if sum(w) == 0:
            continue
        for band in bands:
            if band[1] > band[0]:
                continue
            figures = evaluate(items, sigs, w, band)
            if figures["unknown"] <= 0.05 and figures["oos"] >= 0.8:
                results.append(
                    (round(figures["top1"], 3), figures["right"] + figures["oos"], w, band, figures)
                )
    results.sort(key=lambda r: (-r[0], -r[4]["right"]))
    for top1, objective, w, band, figures in results[:15]:
        print(
            f"top1={top1:.3f} objective={objective:.3f} weights={w} bands={band} "
            + " ".join(f"{k}={v:.3f}" for k, v in figures.items())
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
