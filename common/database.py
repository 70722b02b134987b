"""Small database helpers: backend differences, the database URL, vocabulary constraints."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from common.extensions import db


def insert_or_update(model):
    """An INSERT that supports ON CONFLICT on both SQLite and PostgreSQL."""
    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def lock_row(obj) -> None:
    """Hold this row until the transaction ends, then read it afresh, so a decision re-checks the state it
    finds after waiting rather than the state it loaded before. PostgreSQL: SELECT ... FOR UPDATE (the
    refresh populates the object anew). SQLite has no row locks but one writer at a time: a no-op UPDATE
    takes the write lock first (pysqlite opens the transaction there), so the read after it sees every
    write committed before."""
    if db.session.get_bind().dialect.name == "sqlite":
        table = type(obj).__table__
        (column,) = table.primary_key.columns  # every model here has a one-column key
        # Plain SQL: an ORM or Core UPDATE would apply the columns' onupdate defaults (updated_at).
        db.session.execute(sa.text(f'UPDATE "{table.name}" SET "{column.name}" = "{column.name}" '  # nosec B608 - names from the model
                                   f'WHERE "{column.name}" = :key'), {"key": sa.inspect(obj).identity[0]})
    db.session.refresh(obj, with_for_update=True)


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
