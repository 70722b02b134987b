"""Logs carry no names, emails or tokens.

Every log record of the process (the application's, Werkzeug's and Gunicorn's access lines, libraries')
is redacted as it is made, so whichever handler writes it, the text and its traceback are already clean:
- emails, bearer tokens and long opaque tokens are masked;
- the secret part of URLs is masked: /v/<token>, /invitation/<token>, /checkin/<session>/<code>, and
  every query string (?q= searches by name);
- SQL parameters never reach a message (the engine runs with hide_parameters), and SQLAlchemy's
  statement and row logging stays off whatever the root level is.
Names cannot be recognised in free text: the code never logs them, and the test suite checks the flows.
"""
from __future__ import annotations

import logging
import re
import traceback

REDACTIONS = (
    (re.compile(r"(?i)\b(bearer\s+)\S+"), r"\1[token]"),
    (re.compile(r"(/v/|/invitation/|/checkin/\d+/)[^\s/?\"']+"), r"\1[token]"),
    (re.compile(r"\?[^\s\"'?]*="+r"[^\s\"']*"), "?[query]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # Long opaque strings with a digit (API tokens, signed certificate tokens, hashes), not long identifiers.
    (re.compile(r"(?<![\w-])(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{32,}(?:\.[A-Za-z0-9_-]+)*"), "[token]"),
)


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


_installed = False


def install() -> None:
    """Redact every record the process makes from now on (once per process, whatever the apps built)."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep its parts, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters reuse exc_text when set: the traceback is written once, redacted.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(redacting_record)
    # Statements and rows (with names) are logged at INFO and DEBUG: only an explicit choice turns them on.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
