"""Planning a user's checklist from the templates, and grouping it for display.

Pure functions of the knowledge, the profile, the stored task rows and today's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.knowledge.model import ANY_COUNTRY, ChecklistTask, Knowledge
from bot.storage import Profile

DUE_SOON_DAYS = 7
SNOOZE_DAYS = 3


def applies(task: ChecklistTask, profile: Profile) -> bool:
    """True when every condition of the task holds for the profile.

    A condition on a field the user skipped counts as met (better one task too many than a
    missed deadline), except `children`: nobody who skipped that question wants school tasks.
    Without a stage, leaving tasks are not planned.
    """
    values = {
        "stage": profile.stage or ("arrived" if profile.arrival_date else "planning"),
        "citizenship": profile.citizenship,
        "purpose": profile.purpose,
        "children": None if profile.children is None else str(profile.children).lower(),
    }
    for field, allowed in task.when.items():
        value = values[field]
        if value is None and field == "children":
            return False
        if value is not None and value not in allowed:
            return False
    if "stage" not in task.when:
        leaving = values["stage"] == "leaving"
        return (task.anchor == "departure") == leaving
    return True


def due_date(task: ChecklistTask, profile: Profile) -> dt.date | None:
    """Anchor date plus the task's offset. For someone who has already arrived, a task meant
    for before arrival that still applies is due on the arrival day, not months in the past."""
    anchor = profile.departure_date if task.anchor == "departure" else profile.arrival_date
    if anchor is None:
        return None
    due = anchor + dt.timedelta(days=task.due)
    if profile.stage == "arrived" and task.anchor == "arrival":
        return max(due, anchor)
    return due


def plan(knowledge: Knowledge, profile: Profile) -> list[tuple[str, dt.date | None]]:
    """The template tasks for the profile, in a sensible order: by due date, then template order."""
    if not profile.country:
        return []
    chosen = [
        task
        for task in knowledge.tasks.values()
        if task.country in (profile.country, ANY_COUNTRY) and applies(task, profile)
    ]
    order = {task.id: index for index, task in enumerate(knowledge.tasks.values())}
    planned = [(task.id, due_date(task, profile)) for task in chosen]
    return sorted(planned, key=lambda item: (item[1] or dt.date.max, order[item[0]]))


@dataclass(frozen=True)
class TaskView:
    """One row of the user's checklist as the user sees it."""

    task_id: str
    title: str
    description: str
    due: dt.date | None
    status: str
    snoozed_until: dt.date | None
    intent: str | None
    waiting_for: tuple[str, ...]  # titles of open prerequisites
    anchor: str | None = None  # the profile date its due date counts from ("departure", ...)

    def effective_due(self) -> dt.date | None:
        if self.snoozed_until and (self.due is None or self.snoozed_until > self.due):
            return self.snoozed_until
        return self.due


def views(knowledge: Knowledge, rows: list[dict[str, Any]], lang: str) -> list[TaskView]:
    """Stored rows joined with their templates (rows whose template vanished are skipped)."""
    status = {row["task_id"]: row["status"] for row in rows}
    out = []
    for row in rows:
        template = knowledge.tasks.get(row["task_id"])
        if template is None and not row["custom"]:
            continue
        waiting = ()
        if template:
            waiting = tuple(
                knowledge.tasks[p].title(lang)
                for p in template.after
                if p in knowledge.tasks and status.get(p) == "open"
            )
        out.append(
            TaskView(
                task_id=row["task_id"],
                title=template.title(lang) if template else row["title"],
                description=template.description(lang) if template else "",
                due=dt.date.fromisoformat(row["due_date"]) if row["due_date"] else None,
                status=row["status"],
                snoozed_until=dt.date.fromisoformat(row["snoozed_until"])
                if row["snoozed_until"]
                else None,
                intent=template.intent if template else None,
                waiting_for=waiting,
                anchor=template.anchor if template else None,
            )
        )
    return out


@dataclass(frozen=True)
class Groups:
    overdue: list[TaskView]
    soon: list[TaskView]
    later: list[TaskView]
    done: list[TaskView]

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.soon) + len(self.later) + len(self.done)


def group(items: list[TaskView], today: dt.date, *, soon_days: int = DUE_SOON_DAYS) -> Groups:
    overdue, soon, later, done = [], [], [], []
    for item in items:
        due = item.effective_due()
        if item.status == "done":
            done.append(item)
        elif item.status == "hidden":
            continue
        elif due is not None and due < today:
            overdue.append(item)
        elif due is not None and (due - today).days <= soon_days:
            soon.append(item)
        else:
            later.append(item)
    return Groups(overdue, soon, later, done)


def digest_items(items: list[TaskView], today: dt.date, *, ahead_days: int) -> list[TaskView]:
    """Open tasks that are overdue or due within `ahead_days` (what a daily reminder lists)."""
    return [
        item
        for item in items
        if item.status == "open"
        and (due := item.effective_due()) is not None
        and (due - today).days <= ahead_days
    ]
