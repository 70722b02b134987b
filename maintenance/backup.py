"""Backups that restore exactly: the database (SQLite's online backup, or pg_dump's custom format in one
snapshot), the signing keys a restored certificate needs to verify, and a manifest with a checksum of
every table and of every file, checked before a restore and compared again after it."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from audit.operations import record as audit
from common.errors import DomainError
from common.extensions import db
from common.types import utcnow
from maintenance.checksums import alembic_revision, differences, table_checksums

FORMAT = "kafaa-backup/2"
MAC_LABEL = b"kafaa backup manifest v2"  # the MAC key: HMAC-SHA256(SECRET_KEY, label), never in the backup
MANIFEST = "manifest.json"
KEYS = "keys"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupRefused(DomainError):
    title = _l("The backup or restore was refused.")


@dataclass(frozen=True)
class RestoreResult:
    tables: dict[str, dict[str, Any]]  # as found after the restore
    differing: list[str]  # tables whose checksum differs from the manifest's
    revision: str | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dialect() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise BackupRefused(_l("Backups support SQLite and PostgreSQL, not %(kind)s.", kind=name))
    return name


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupRefused(_l("%(tool)s is not installed: install the PostgreSQL client tools "
                               "(the same major version as the server or newer).", tool=name))
    return path


def _pg_target() -> tuple[str, dict[str, str]]:
    """The database URL as libpq spells it (no SQLAlchemy driver suffix, no password on the command line,
    where any user could read it) and the environment carrying the password."""
    url = db.engine.url
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # nosec B603 - a fixed argv, no shell
    if done.returncode != 0:
        raise BackupRefused(_l("%(tool)s failed: %(error)s", tool=Path(command[0]).name,
                               error=done.stderr.strip()[-2000:]))


def _files_checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _mac_key() -> bytes:
    """A key for the manifest's MAC, derived from SECRET_KEY with a label of its own (so it is no other
    use's key). It is not in the backup: a backup can only be restored by an installation sharing the
    SECRET_KEY, and whoever alters the backup cannot make a manifest that passes."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), MAC_LABEL, hashlib.sha256).digest()


def manifest_mac(manifest: dict[str, Any]) -> str:
    """HMAC-SHA256 of the manifest without its own "mac" member, over a canonical JSON form."""
    body = {k: v for k, v in manifest.items() if k != "mac"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(_mac_key(), text.encode(), hashlib.sha256).hexdigest()


# --- backup -------------------------------------------------------------------------------------------

def _backup_sqlite(target: Path) -> tuple[dict, str | None]:
    """Copy the live database page by page with SQLite's online backup (writers may go on), then take
    the checksums from the copy itself, so they describe exactly what was saved."""
    with db.engine.connect() as connection:
        copy = sqlite3.connect(target)
        try:
            connection.connection.dbapi_connection.backup(copy)
        finally:
            copy.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            tables, revision = table_checksums(connection), alembic_revision(connection)
    finally:
        engine.dispose()
    # One self-contained file (our connections turn WAL on): the copy is then read back without side files.
    copy = sqlite3.connect(target)
    copy.execute("PRAGMA journal_mode=DELETE")
    copy.close()
    return tables, revision


def _backup_postgresql(target: Path) -> tuple[dict, str | None]:
    """pg_dump and the checksums read the same snapshot, exported by a repeatable-read transaction."""
    pg_dump = _pg_tool("pg_dump")
    url, env = _pg_target()
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.scalar(sa.text("SELECT pg_export_snapshot()"))
            _run([pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={target}",
                  f"--dbname={url}"], env)
            return table_checksums(connection), alembic_revision(connection)


def create_backup(folder: Path) -> dict[str, Any]:
    """Write a backup into a new (or empty) folder; returns its manifest."""
    kind = _dialect()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupRefused(_l("%(path)s already exists and is not an empty folder: choose a new folder.",
                               path=str(folder)))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # it holds personal data and the private signing keys
    database_file = folder / DATABASE_FILES[kind]
    tables, revision = (_backup_sqlite if kind == "sqlite" else _backup_postgresql)(database_file)
    keys_dir = Path(current_app.config["KEYS_DIR"])
    if keys_dir.is_dir():
        shutil.copytree(keys_dir, folder / KEYS)
    manifest = {
        "format": FORMAT, "created_at": utcnow().isoformat(), "database": kind, "alembic_revision": revision,
        "file": database_file.name, "tables": tables,
        "files": _files_checksums(folder),  # every file of the backup (the database, the keys) with its SHA-256
    }
    manifest["mac"] = manifest_mac(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def key_files(manifest: dict[str, Any]) -> list[str]:
    """The backup's signing-key files, as the manifest lists them (keys/...)."""
    return sorted(name for name in manifest["files"] if Path(name).parts[0] == KEYS)


# --- restore ------------------------------------------------------------------------------------------

def check_backup(folder: Path) -> dict[str, Any]:
    """The backup's manifest, once every file is found intact and of this kind of database."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupRefused(_l("No backup at %(path)s: %(file)s is missing.", path=str(folder), file=MANIFEST))
    try:
        manifest = json.loads(manifest_path.read_text())
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if isinstance(manifest, dict) and manifest.get("format") == "kafaa-backup/1":
        raise BackupRefused(_l("This backup was made by an older version, without an authenticated manifest: it "
                               "cannot be checked, so it is not restored. Restore it with the version that made "
                               "it, then make a new backup."))
    if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("tables"), dict)
            or not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("mac"), str)):
        raise BackupRefused(_l("%(file)s is not a Kafaa backup manifest.", file=str(manifest_path)))
    if not hmac.compare_digest(manifest["mac"], manifest_mac(manifest)):
        raise BackupRefused(_l("The backup's manifest fails its authentication check: it was altered, or made by an "
                               "installation with another SECRET_KEY. Nothing was restored."))
    kind = _dialect()
    if manifest.get("database") != kind:
        raise BackupRefused(_l("This backup is of a %(backup)s database but the configured database is %(current)s: "
                               "restore it into the same kind of database.",
                               backup=str(manifest.get("database")), current=kind))
    database_file = folder / DATABASE_FILES[kind]
    if manifest.get("file") != database_file.name or not database_file.is_file():
        raise BackupRefused(_l("The backup is incomplete: %(file)s is missing.", file=str(database_file)))
    expected: dict[str, str] = manifest["files"]
    found = {name for name in _files_checksums(folder) if name != MANIFEST}
    unlisted = sorted(found - expected.keys())
    if unlisted or any(p.is_symlink() for p in folder.rglob("*")):
        raise BackupRefused(_l("The backup holds files its manifest does not list: %(files)s. Nothing was restored.",
                               files=", ".join(unlisted) or _l("symbolic links")))
    for name, digest in sorted(expected.items()):
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupRefused(_l("The backup is damaged: %(file)s does not match its checksum in %(manifest)s.",
                                   file=str(path), manifest=MANIFEST))
    return manifest


def _restore_sqlite(source_file: Path) -> None:
    """Copy the backup over the live database with the online backup API, in one step."""
    source = sqlite3.connect(source_file)
    try:
        with db.engine.connect() as connection:
            source.backup(connection.connection.dbapi_connection)
    finally:
        source.close()


def _restore_postgresql(source_file: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    url, env = _pg_target()
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={url}", str(source_file)], env)


def code_revision() -> str | None:
    """The schema revision this code expects (the newest migration)."""
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def restore_backup(folder: Path, manifest: dict[str, Any]) -> RestoreResult:
    """Replace the database and restore the signing keys, then compare every table with the manifest.
    Audited afterwards (the comparison is with the data as it was saved)."""
    kind = _dialect()
    db.session.rollback()  # gives the connection back; loaded objects are read again after the restore
    db.engine.dispose()  # no pooled connection may keep a table locked or a stale page cached
    (_restore_sqlite if kind == "sqlite" else _restore_postgresql)(folder / DATABASE_FILES[kind])
    db.engine.dispose()
    # Only the key files the authenticated manifest lists (check_backup refused any other). Keys made after
    # the backup stay: they verify nothing restored, but harm nothing either.
    keys_dir = Path(current_app.config["KEYS_DIR"])
    for name in key_files(manifest):
        target = keys_dir / Path(name).relative_to(KEYS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / name, target)
    with db.engine.connect() as connection:
        tables, revision = table_checksums(connection), alembic_revision(connection)
    result = RestoreResult(tables, differences(manifest["tables"], tables), revision)
    audit(None, "database.restore", "backup", manifest["created_at"],
          after={"tables": len(tables), "rows": sum(t["rows"] for t in tables.values()),
                 "differing": result.differing})
    return result
