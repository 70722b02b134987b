"""Where to send a person after a form: only ever to a page of this site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only local paths: an open redirect after login would be a phishing aid. Anything else goes to
    `default`, else home."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return default or url_for("skills.home")
