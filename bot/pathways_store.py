"""SQLite access for guided pathways (/business): a run per user and pathway, and its answers.

Each answer is committed when the user taps it, so nothing is lost in a restart; /export and
/forget reach these tables through `Store.export_user` and `USER_TABLES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage import Store

IN_PROGRESS = "in_progress"
DONE = "done"
TASK_POSITION = 20_000


@dataclass(frozen=True)
class Run:
    """Where a user stands in one pathway."""

    status: str  # IN_PROGRESS or DONE
    answers: dict[str, str]  # question id -> option id
    started_at: str
    finished_at: str | None


class PathwayStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def _now(self) -> str:
        return self.store.clock().isoformat()

    def run(self, user_id: int, pathway: str) -> Run | None:
        rows = list(
            self.db["pathway_runs"].rows_where("user_id = ? AND pathway = ?", [user_id, pathway])
        )
        if not rows:
            return None
        answers = {
            row["question"]: row["answer"]
            for row in self.db["pathway_answers"].rows_where(
                "user_id = ? AND pathway = ?", [user_id, pathway]
            )
        }
        row = rows[0]
        return Run(row["status"], answers, row["started_at"], row["finished_at"])

    def start(self, user_id: int, pathway: str) -> None:
        """A fresh run: earlier answers are deleted, in one transaction."""
        with self.db.atomic():
            self.db["pathway_answers"].delete_where(
                "user_id = ? AND pathway = ?", [user_id, pathway]
            )
            self.db["pathway_runs"].upsert(
                {
                    "user_id": user_id,
                    "pathway": pathway,
                    "status": IN_PROGRESS,
                    "started_at": self._now(),
                    "finished_at": None,
                },
                pk=("user_id", "pathway"),
            )

    def answer(self, user_id: int, pathway: str, question: str, option: str) -> None:
        with self.db.atomic():
            self.db["pathway_answers"].upsert(
                {
                    "user_id": user_id,
                    "pathway": pathway,
                    "question": question,
                    "answer": option,
                    "answered_at": self._now(),
                },
                pk=("user_id", "pathway", "question"),
            )

    def finish(self, user_id: int, pathway: str) -> None:
        with self.db.atomic():
            self.db["pathway_runs"].update(
                (user_id, pathway), {"status": DONE, "finished_at": self._now()}
            )

    def order_tasks(self, user_id: int, task_ids: list[str]) -> None:
        """Keep a pathway's tasks in the order of its steps on the checklist, after the
        user's own tasks (which start at position 10000)."""
        with self.db.atomic():
            for index, task_id in enumerate(task_ids):
                self.db.execute(
                    "UPDATE tasks SET position = ? WHERE user_id = ? AND task_id = ?",
                    [TASK_POSITION + index, user_id, task_id],
                )
