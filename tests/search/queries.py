"""Counting a search's statements: the ones that do its work, without the session's and the
test transaction's housekeeping (settings, savepoints, statement preparation)."""

from __future__ import annotations

from django.test.utils import CaptureQueriesContext

HOUSEKEEPING = ("SET ", "SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ", "PREPARE ")


def work_statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(HOUSEKEEPING)]
