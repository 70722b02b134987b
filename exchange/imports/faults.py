"""What an import says went wrong: every fault as {"row", "column", "message", "value"}, rows numbered as a
spreadsheet shows them (the header being row 1), messages in the reader's language, and the offending value
as the file wrote it (shortened, and defused as exports defuse formulas), or None."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from common.errors import DomainError
from exchange.exports import neutralise

MAX_LISTED_ERRORS = 1000  # `error_count` gives the total
MAX_SHOWN_VALUE = 60  # characters of an offending value shown beside its error
NO_FILE = _l("Send the file as multipart/form-data, in the field “file”.")


class ImportRefused(DomainError):
    """A file, or a commit with bad rows, that was not imported. The problem document lists every fault as
    {"row", "column", "message"} under `errors`, beside the counts of the dry run."""

    status = 422
    title = _l("Nothing was imported.")

    def __init__(self, errors: list[dict[str, Any]], report: dict[str, Any] | None = None, message: Any = None):
        self.errors = errors
        self.report = {**(report or {}), "errors": errors[:MAX_LISTED_ERRORS],
                       "error_count": (report or {}).get("error_count", len(errors))}
        if message is None:
            message = _l("Some rows have errors: nothing was imported. Correct them and send the file again.")
        super().__init__(message, extra=self.report)


def shown_value(value: Any) -> str | None:
    """An offending value as it may be shown: at most MAX_SHOWN_VALUE characters, and behind a quote if a
    spreadsheet would run it as a formula (the error table is copied into spreadsheets too)."""
    if value is None:
        return None
    text = str(value)
    if len(text) > MAX_SHOWN_VALUE:
        text = text[:MAX_SHOWN_VALUE - 1] + "…"
    return neutralise(text)


def fault(row: int | None, column: str | None, message: Any, value: Any = None) -> dict[str, Any]:
    """One error of an import, its message in the reader's language, with the value that caused it."""
    return {"row": row, "column": column, "message": str(message), "value": shown_value(value)}


def refuse(message: Any, row: int | None = None, column: str | None = None) -> ImportRefused:
    """A file refused as a whole, for one reason."""
    return ImportRefused([fault(row, column, message)], message=message)



def refused_report(error: DomainError, dry_run: bool) -> dict[str, Any]:
    """The report of an import that stopped on an error, for a page or a job's summary."""
    if isinstance(error, ImportRefused):
        return {"dry_run": dry_run, **error.report}
    faults = [fault(None, name, message) for name, messages in error.fields.items() for message in messages]
    faults = faults or [fault(None, None, error.message)]
    return {"dry_run": dry_run, "errors": faults, "error_count": len(faults)}
