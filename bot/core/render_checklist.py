"""Replies for the checklist, a task card, reminder settings and the daily digest."""

from __future__ import annotations

import datetime as dt

from bot.core.checklist import Groups, TaskView
from bot.core.replies import Button, Reply, rows
from bot.i18n import format_date, t

MAX_NUMBER_BUTTONS = 40
REMINDER_HOURS = (8, 9, 10, 12, 15, 18, 20)  # all outside the 21:00-08:00 quiet hours


def _line(number: int | None, item: TaskView, lang: str) -> str:
    due = item.effective_due()
    if due:
        when = t(lang, "due_on", date=format_date(lang, due))
    else:  # which date in /profile would give it one
        when = t(lang, "no_date_departure" if item.anchor == "departure" else "no_date")
    prefix = f"{number}. " if number is not None else "• "
    line = f"{prefix}{item.title} — {when}"
    if item.waiting_for and item.status == "open":
        line += f"\n   ({t(lang, 'waiting_for', tasks=', '.join(item.waiting_for))})"
    return line


def checklist_reply(groups: Groups, lang: str) -> Reply:
    if groups.total == 0:
        return Reply(t(lang, "checklist_empty"))
    lines = [t(lang, "checklist_title", done=len(groups.done), total=groups.total)]
    numbered: list[TaskView] = []
    for key, items in (
        ("group_overdue", groups.overdue),
        ("group_soon", groups.soon),
        ("group_later", groups.later),
        ("group_done", groups.done),
    ):
        if not items:
            continue
        lines += ["", t(lang, key)]
        for item in items:
            numbered.append(item)
            lines.append(_line(len(numbered), item, lang))
    lines += ["", t(lang, "checklist_hint")]
    buttons = [
        Button(str(n), f"ck:o:{item.task_id}")
        for n, item in enumerate(numbered[:MAX_NUMBER_BUTTONS], 1)
    ]
    return Reply("\n".join(lines), rows(buttons, 8))


def task_reply(item: TaskView, lang: str, today: dt.date, *, overdue_help_days: int) -> Reply:
    """One task with its actions; a task long overdue also offers help."""
    lines = [item.title]
    if item.description:
        lines.append(item.description)
    lines.append("")
    if item.status == "done":
        lines.append(t(lang, "task_status_done"))
    elif item.status == "hidden":
        lines.append(t(lang, "task_status_hidden"))
    else:
        lines.append(_line(None, item, lang).removeprefix("• "))
    buttons: list[tuple[Button, ...]] = []
    tid = item.task_id
    if item.status == "open":
        buttons.append(
            (
                Button(t(lang, "task_tick"), f"ck:t:{tid}"),
                Button(t(lang, "task_snooze"), f"ck:s:{tid}"),
            )
        )
    elif item.status == "done":
        buttons.append((Button(t(lang, "task_untick"), f"ck:u:{tid}"),))
    if item.intent:
        buttons.append(
            (
                Button(t(lang, "task_how"), f"ask:{item.intent}"),
                Button(t(lang, "who_can_help"), f"svc:{item.intent}"),
            )
        )
    due = item.effective_due()
    late = (today - due).days if due and item.status == "open" else 0
    if late >= overdue_help_days:
        lines += ["", t(lang, "overdue_help", days=late)]
        buttons.append((Button(t(lang, "talk_to_person"), f"esc:t:{tid}"),))
    hide = (
        Button(t(lang, "task_show"), f"ck:u:{tid}")
        if item.status == "hidden"
        else Button(t(lang, "task_hide"), f"ck:h:{tid}")
    )
    buttons.append((hide, Button(t(lang, "task_back"), "ck:l")))
    return Reply("\n".join(lines), tuple(buttons))


def reminders_reply(lang: str, *, on: bool, hour: int, place: str | None) -> Reply:
    if place is None:
        return Reply(t(lang, "reminders_need_country"))
    if on:
        text = t(lang, "reminders_on_status", hour=f"{hour:02d}", place=place)
        toggle = Button(t(lang, "reminders_turn_off"), "rm:off")
    else:
        text = t(lang, "reminders_off_status")
        toggle = Button(t(lang, "reminders_turn_on"), "rm:on")
    hours = [
        Button(f"{'• ' if on and h == hour else ''}{h:02d}:00", f"rm:h:{h}") for h in REMINDER_HOURS
    ]
    return Reply(text, ((toggle,), *rows(hours, 4)))


def digest_reply(items: list[TaskView], lang: str) -> Reply:
    lines = [t(lang, "digest_title"), ""]
    lines += [_line(None, item, lang) for item in items]
    lines += ["", t(lang, "digest_footer")]
    buttons = [Button(item.title[:40], f"ck:o:{item.task_id}") for item in items[:8]]
    return Reply("\n".join(lines), rows(buttons, 1))
