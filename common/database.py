"""Small database helpers: backend differences, the database URL, vocabulary constraints."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from common.extensions import db


def insert_or_update(model):
    """An INSERT that supports ON CONFLICT on both SQLite and PostgreSQL."""
    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def one_of(column: str, vocabulary: dict, name: str) -> sa.CheckConstraint:
    """A CHECK constraint keeping a code column inside its vocabulary, as a last line of defence."""
    values = ", ".join(f"'{code}'" for code in vocabulary)
    return sa.CheckConstraint(f"{column} IN ({values})", name=name)
