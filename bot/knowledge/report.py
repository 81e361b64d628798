"""`softlanding knowledge report`: what to improve in the knowledge, as Markdown for a PR."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.coverage import coverage_table
from bot.knowledge.loader import load_knowledge
from bot.stats import group_near_duplicates
from bot.storage import Store

MIN_RATINGS = 3


def knowledge_report(folder: Path, store: Store) -> str:
    knowledge, problems = load_knowledge(folder)
    lines = ["# Knowledge report", ""]
    errors = [p for p in problems if p.severity == "error"]
    if errors or knowledge is None:
        lines += ["## Errors", "", *[f"- `{p}`" for p in errors], ""]
        return "\n".join(lines) + "\n"
    lines += ["## Coverage", "", "```", coverage_table(knowledge), "```", ""]
    stale = [p for p in problems if "over a year ago" in p.message]
    lines += ["## Stale review dates", ""]
    lines += [f"- `{p.path}:{p.line}` {p.message}" for p in stale] or ["None."]
    collisions = [p for p in problems if "claimed by" in p.message]
    lines += ["", "## Paraphrases claimed by two intents", ""]
    lines += [f"- `{p.path}:{p.line}` {p.message}" for p in collisions] or ["None."]
    lines += ["", "## Answers users often reject (👎)", ""]
    rejected = []
    for row in store.db.query(
        "SELECT intent, SUM(value > 0) AS up, SUM(value < 0) AS down FROM feedback GROUP BY intent"
    ):
        total = int(row["up"]) + int(row["down"])
        if total >= MIN_RATINGS and int(row["down"]) * 2 >= total:
            rejected.append(f"- `{row['intent']}`: {row['down']} 👎 of {total} ratings")
    lines += rejected or [f"None (at least {MIN_RATINGS} ratings, half of them 👎)."]
    lines += ["", '## Intents that often lead to "did you mean"', ""]
    suggest = list(
        store.db.query(
            "SELECT intent, COUNT(*) AS n FROM questions WHERE outcome = 'suggest' AND intent "
            "IS NOT NULL GROUP BY intent ORDER BY n DESC, intent LIMIT 10"
        )
    )
    lines += [
        f"- `{r['intent']}`: {r['n']} questions (add paraphrases for them)" for r in suggest
    ] or ["None."]
    lines += ["", "## Unanswered questions most worth a new intent", ""]
    texts = [
        r["text"]
        for r in store.db.query(
            "SELECT text FROM questions WHERE outcome = 'unknown' AND text != ''"
        )
    ]
    clusters = group_near_duplicates(texts, limit=15)
    lines += [f"- {n}× “{text[:120]}”" for text, n in clusters] or ["None."]
    return "\n".join(lines) + "\n"
