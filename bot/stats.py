"""Statistics for admins and providers: figures from SQLite, a short text, and a PNG chart."""

from __future__ import annotations

import datetime as dt
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from bot.matching.normalize import normalize
from bot.storage import Store

DAYS = 30
NEAR_DUPLICATE = 80.0  # token_set_ratio at which two unanswered questions count as the same


@dataclass
class Stats:
    since: dt.date
    countries: tuple[str, ...]  # empty: all countries
    users_by_country: Counter[str] = field(default_factory=Counter)
    users_by_stage: Counter[str] = field(default_factory=Counter)
    active_7: int = 0
    active_30: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    feedback: dict[str, tuple[int, int]] = field(default_factory=dict)  # intent -> (up, down)
    tickets_opened: int = 0
    tickets_answered: int = 0
    median_first_answer_hours: float | None = None
    per_day: dict[dt.date, Counter[str]] = field(default_factory=dict)
    tickets_per_day: Counter[dt.date] = field(default_factory=Counter)


def _in(countries: tuple[str, ...], column: str) -> tuple[str, list[Any]]:
    if not countries:
        return "1 = 1", []
    return f"{column} IN ({','.join('?' for _ in countries)})", list(countries)


def group_near_duplicates(texts: list[str], limit: int = 10) -> list[tuple[str, int]]:
    """Cluster similar questions (rapidfuzz token_set_ratio); biggest clusters first."""
    clusters: list[tuple[str, str, int]] = []  # (representative, normalised, count)
    for text in texts:
        norm = normalize(text)
        if not norm:
            continue
        for index, (rep, rep_norm, count) in enumerate(clusters):
            if fuzz.token_set_ratio(norm, rep_norm) >= NEAR_DUPLICATE:
                clusters[index] = (rep, rep_norm, count + 1)
                break
        else:
            clusters.append((text, norm, 1))
    clusters.sort(key=lambda c: (-c[2], c[0]))
    return [(rep, count) for rep, _, count in clusters[:limit]]


def compute(store: Store, *, countries: tuple[str, ...] = (), days: int = DAYS) -> Stats:
    now = store.clock()
    since = now - dt.timedelta(days=days)
    db = store.db
    out = Stats(since=since.date(), countries=countries)
    where, args = _in(countries, "country")
    for row in db.query(f"SELECT country, stage, last_seen FROM users WHERE {where}", args):
        out.users_by_country[row["country"] or "?"] += 1
        out.users_by_stage[row["stage"] or "?"] += 1
        seen = dt.datetime.fromisoformat(row["last_seen"]) if row["last_seen"] else None
        out.active_7 += bool(seen and now - seen <= dt.timedelta(days=7))
        out.active_30 += bool(seen and now - seen <= dt.timedelta(days=30))
    rows = list(
        db.query(
            f"SELECT text, outcome, intent, created_at FROM questions WHERE created_at >= ? "
            f"AND {where}",
            [since.isoformat(), *args],
        )
    )
    intents: Counter[str] = Counter()
    unanswered = []
    for row in rows:
        out.outcomes[row["outcome"]] += 1
        day = dt.date.fromisoformat(row["created_at"][:10])
        out.per_day.setdefault(day, Counter())[row["outcome"]] += 1
        if row["outcome"] in ("answer", "chosen") and row["intent"]:
            intents[row["intent"]] += 1
        if row["outcome"] == "unknown" and row["text"]:
            unanswered.append(row["text"])
    out.top_intents = intents.most_common(10)
    out.unanswered = group_near_duplicates(unanswered)
    fb_where, fb_args = _in(countries, "q.country")
    for row in db.query(
        f"SELECT f.intent AS intent, SUM(f.value > 0) AS up, SUM(f.value < 0) AS down "
        f"FROM feedback f JOIN questions q ON q.id = f.question_id WHERE {fb_where} "
        f"GROUP BY f.intent ORDER BY f.intent",
        fb_args,
    ):
        out.feedback[row["intent"]] = (int(row["up"]), int(row["down"]))
    waits = []
    for row in db.query(
        f"SELECT created_at, answered_at FROM tickets WHERE created_at >= ? AND {where}",
        [since.isoformat(), *args],
    ):
        out.tickets_opened += 1
        out.tickets_per_day[dt.date.fromisoformat(row["created_at"][:10])] += 1
        if row["answered_at"]:
            out.tickets_answered += 1
            delta = dt.datetime.fromisoformat(row["answered_at"]) - dt.datetime.fromisoformat(
                row["created_at"]
            )
            waits.append(delta.total_seconds() / 3600)
    out.median_first_answer_hours = statistics.median(waits) if waits else None
    return out


def as_text(stats: Stats) -> str:
    def counts(counter: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"

    scope = ", ".join(stats.countries) if stats.countries else "all countries"
    lines = [
        f"Soft Landing statistics ({scope}), last {DAYS} days since {stats.since.isoformat()}",
        f"Users by country: {counts(stats.users_by_country)}",
        f"Users by stage: {counts(stats.users_by_stage)}",
        f"Active users: {stats.active_7} in 7 days, {stats.active_30} in 30 days",
        f"Questions: answered {stats.outcomes['answer'] + stats.outcomes['chosen']}, "
        f"did-you-mean {stats.outcomes['suggest']}, unknown {stats.outcomes['unknown']}",
        "Top intents: " + (", ".join(f"{i} {n}" for i, n in stats.top_intents) or "none"),
        "Feedback 👍/👎: "
        + (", ".join(f"{i} {u}/{d}" for i, (u, d) in stats.feedback.items()) or "none"),
    ]
    median = stats.median_first_answer_hours
    lines.append(
        f"Tickets: {stats.tickets_opened} opened, {stats.tickets_answered} answered, "
        f"median time to first answer "
        f"{'n/a' if median is None else f'{median:.1f} h'}"
    )
    if stats.unanswered:
        lines.append("Top unanswered questions:")
        lines += [f"  {n}× {text[:100]}" for text, n in stats.unanswered]
    return "\n".join(lines)


def chart_png(stats: Stats, *, days: int = DAYS) -> bytes:
    """Questions per day by outcome (stacked bars) and tickets per day (line), as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in a server process
    from matplotlib.figure import Figure

    start = stats.since
    dates = [start + dt.timedelta(days=i) for i in range(days + 1)]
    figure = Figure(figsize=(9, 4), dpi=100)
    axes = figure.subplots()
    bottom = [0] * len(dates)
    for outcome, colour in (
        ("answer", "#2e7d32"),
        ("chosen", "#66bb6a"),
        ("suggest", "#f9a825"),
        ("unknown", "#c62828"),
    ):
        values = [stats.per_day.get(d, Counter())[outcome] for d in dates]
        axes.bar(dates, values, bottom=bottom, color=colour, label=outcome, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.plot(
        dates,
        [stats.tickets_per_day[d] for d in dates],
        color="#1565c0",
        marker="o",
        linewidth=1.5,
        label="tickets",
    )
    axes.set_title(f"Questions and tickets per day, last {days} days")
    axes.legend(loc="upper left", fontsize=8)
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
