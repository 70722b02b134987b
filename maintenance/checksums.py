"""A checksum of every table, the same whichever database holds the rows: a backup records them and a
restore must find them all again."""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from common.extensions import db


def _plain(value: Any) -> Any:
    """A value as JSON, written the same way by SQLite and PostgreSQL (the models' types already give
    aware UTC datetimes and Decimals on both)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 6.00 and 6 are the same number
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def table_checksum(connection: Connection, table: sa.Table) -> dict[str, Any]:
    """Row count and SHA-256 over every row in primary-key order."""
    digest, rows = hashlib.sha256(), 0
    query = sa.select(table).order_by(*table.primary_key.columns)
    for row in connection.execution_options(yield_per=1000).execute(query):
        digest.update(json.dumps([_plain(v) for v in row], sort_keys=True, ensure_ascii=False,
                                 default=str).encode())
        digest.update(b"\n")
        rows += 1
    return {"rows": rows, "sha256": digest.hexdigest()}


def table_checksums(connection: Connection) -> dict[str, dict[str, Any]]:
    """Every table of the application's schema, by name."""
    return {table.name: table_checksum(connection, table) for table in db.metadata.sorted_tables}


def alembic_revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))


def differences(expected: dict[str, dict], found: dict[str, dict]) -> list[str]:
    """The tables whose rows differ, by name (empty when every checksum matches)."""
    return sorted(name for name in expected.keys() | found.keys() if expected.get(name) != found.get(name))
