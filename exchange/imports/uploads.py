"""An uploaded file kept between the dry run and the commit (web pages), under a random token, for its
owner only, for a day at most."""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from accounts.models import User


@dataclass
class Upload:
    token: str
    filename: str
    data: bytes
    meta: dict[str, Any]


_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")



def upload_max_age_seconds() -> int:
    """How long a kept upload lives (RETENTION_UPLOADS_HOURS): it holds the people of the file."""
    return current_app.config["RETENTION_UPLOADS_HOURS"] * 3600

def _uploads_dir() -> Path:
    path = Path(current_app.config["EXPORTS_DIR"]) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_upload(user: User, kind: str, filename: str, data: bytes, **meta: Any) -> str:
    """Keep an uploaded file for its owner's confirmation step; returns the random token naming it.
    Files older than a day are removed on the way."""
    folder = _uploads_dir()
    cutoff = time.time() - upload_max_age_seconds()
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # another request removed it first
            pass
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.data").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps({"user_id": user.id, "kind": kind, "filename": filename,
                                                      **meta}))
    return token


def take_upload(token: str | None, user: User | None, kind: str) -> Upload | None:
    """The kept file, if the token is well formed, not expired, of this kind and this user's."""
    if not token or user is None or not _TOKEN.match(token):
        return None
    folder = _uploads_dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        if time.time() - (folder / f"{token}.json").stat().st_mtime > upload_max_age_seconds():
            return None
        data = (folder / f"{token}.data").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    if meta.get("user_id") != user.id or meta.get("kind") != kind:
        return None
    return Upload(token=token, filename=meta.get("filename") or "", data=data, meta=meta)


def drop_upload(token: str) -> None:
    if _TOKEN.match(token or ""):
        for suffix in (".data", ".json"):
            (_uploads_dir() / f"{token}{suffix}").unlink(missing_ok=True)
