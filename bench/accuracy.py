"""Matching accuracy on a labelled question set, against two baselines, in one run.

Usage:  python bench/accuracy.py [--set ../shared/eval/dev.yaml] [--knowledge knowledge/]

The assistant is measured through its public interface, `softlanding match --jsonl`
(a subprocess), exactly as external evaluations drive it. Baselines on the same knowledge:
  * extractOne: rapidfuzz.process.extractOne over all paraphrases, default settings;
  * tfidf:      character n-gram TF-IDF nearest neighbour (scikit-learn).
Baselines have no "did you mean" band; they answer when their score reaches a fixed cutoff
(BASELINE_CUTOFFS) and are otherwise "unknown".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_SET, ROOT, Item, load_set
from bot.knowledge.loader import load_knowledge

BASELINE_CUTOFFS = {"extractOne": 85.0, "tfidf": 0.5}
Prediction = dict  # {"intent", "outcome", "candidates"}


def run_assistant(items: list[Item], knowledge: Path) -> list[Prediction]:
    lines = "".join(
        json.dumps({"q": i.q, "country": i.country, "lang": i.lang}, ensure_ascii=False) + "\n"
        for i in items
    )
    env = dict(os.environ, KNOWLEDGE_DIR=str(knowledge), LOG_LEVEL="WARNING")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "match", "--jsonl"],
        input=lines,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _phrases(knowledge_dir: Path) -> tuple[list[str], list[str]]:
    knowledge, problems = load_knowledge(knowledge_dir)
    if knowledge is None:
        raise SystemExit("\n".join(str(p) for p in problems))
    texts, ids = [], []
    for intent in knowledge.intents.values():
        for phrases in intent.paraphrases.values():
            texts += phrases
            ids += [intent.id] * len(phrases)
    return texts, ids


def _top_intents(scored: list[tuple[str, float]], limit: int = 3) -> list[str]:
    seen: list[str] = []
    for intent_id, _ in scored:
        if intent_id not in seen:
            seen.append(intent_id)
        if len(seen) == limit:
            break
    return seen


def run_extract_one(items: list[Item], texts: list[str], ids: list[str]) -> list[Prediction]:
    out = []
    for item in items:
        best = process.extractOne(item.q, texts)  # default scorer (WRatio), no processor
        ranked = process.extract(item.q, texts, limit=30)
        top = _top_intents([(ids[index], score) for _, score, index in ranked])
        answered = best is not None and best[1] >= BASELINE_CUTOFFS["extractOne"]
        out.append(
            {
                "intent": ids[best[2]] if best else None,
                "outcome": "answer" if answered else "unknown",
                "candidates": top,
            }
        )
    return out


def run_tfidf(items: list[Item], texts: list[str], ids: list[str]) -> list[Prediction]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    sims = linear_kernel(vectorizer.transform([i.q for i in items]), matrix)
    out = []
    for row in sims:
        order = row.argsort()[::-1][:60]
        top = _top_intents([(ids[j], row[j]) for j in order])
        best = order[0]
        answered = row[best] >= BASELINE_CUTOFFS["tfidf"]
        out.append(
            {"intent": ids[best], "outcome": "answer" if answered else "unknown", "candidates": top}
        )
    return out


def score(items: list[Item], predictions: list[Prediction]) -> dict[str, float]:
    """The figures of the quality gates, as fractions."""
    counts: dict[str, int] = defaultdict(int)
    for item, pred in zip(items, predictions, strict=True):
        if item.expect == "OUT_OF_SCOPE":
            counts["oos"] += 1
            counts["oos_ok"] += pred["outcome"] != "answer"
            continue
        if item.expect == "SMALLTALK":
            counts["smalltalk"] += 1
            counts["smalltalk_ok"] += pred.get("smalltalk") is not None
            continue
        top1 = pred["intent"] == item.expect
        counts["n"] += 1
        counts["top1"] += top1
        counts["top1_also"] += pred["intent"] in (item.expect, *item.also)
        counts["top3"] += item.expect in pred["candidates"][:3] or top1
        counts["unknown"] += pred["outcome"] == "unknown"
        counts["answered_right"] += pred["outcome"] == "answer" and top1
        lang = item.lang if item.lang in ("en", "ru", "uk") else "other"
        counts[f"n_{lang}"] += 1
        counts[f"top1_{lang}"] += top1

    def ratio(a: str, b: str) -> float:
        return counts[a] / counts[b] if counts[b] else float("nan")

    return {
        "top1": ratio("top1", "n"),
        "top1+also": ratio("top1_also", "n"),
        "top3": ratio("top3", "n"),
        "oos_not_answered": ratio("oos_ok", "oos"),
        "in_scope_unknown": ratio("unknown", "n"),
        "answered_right": ratio("answered_right", "n"),
        "smalltalk": ratio("smalltalk_ok", "smalltalk"),
        **{
            f"top1_{lang}": ratio(f"top1_{lang}", f"n_{lang}")
            for lang in ("en", "ru", "uk", "other")
        },
        "n": counts["n"],
        "oos": counts["oos"],
    }


COLUMNS = (
    "top1",
    "top1+also",
    "top3",
    "oos_not_answered",
    "in_scope_unknown",
    "answered_right",
    "smalltalk",
    "top1_en",
    "top1_ru",
    "top1_uk",
    "top1_other",
)


def print_table(results: dict[str, dict[str, float]]) -> None:
    width = max(len(c) for c in COLUMNS)
    print(f"{'':<{width}}  " + "  ".join(f"{name:>11}" for name in results))
    for column in COLUMNS:
        cells = []
        for figures in results.values():
            value = figures[column]
            cells.append(f"{'n/a' if value != value else f'{100 * value:.1f}%':>11}")
        print(f"{column:<{width}}  " + "  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled questions (YAML)")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--errors", action="store_true", help="list the assistant's misses")
    args = parser.parse_args(argv)
    items = load_set(args.set)
    texts, ids = _phrases(args.knowledge)
    systems: dict[str, Callable[[], list[Prediction]]] = {
        "assistant": lambda: run_assistant(items, args.knowledge),
        "extractOne": lambda: run_extract_one(items, texts, ids),
        "tfidf": lambda: run_tfidf(items, texts, ids),
    }
    predictions = {name: run() for name, run in systems.items()}
    results = {name: score(items, preds) for name, preds in predictions.items()}
    in_scope = sum(i.in_scope for i in items)
    print(f"set: {args.set} ({len(items)} questions, {in_scope} in scope)")
    print(f"knowledge: {args.knowledge} ({len(texts)} paraphrases)\n")
    print_table(results)
    if args.errors:
        print("\nassistant misses:")
        for item, pred in zip(items, predictions["assistant"], strict=True):
            wrong = (
                (pred["outcome"] == "answer")
                if not item.in_scope
                else pred["intent"] != item.expect
            )
            if wrong or (item.in_scope and pred["outcome"] == "unknown"):
                print(
                    f"  [{item.lang}] {item.q!r}\n     expect={item.expect} got={pred['intent']} "
                    f"{pred['outcome']} {pred['score']:.1f} {pred['candidates']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
