"""Small database helpers: backend differences, row locks, work after commit, the database URL, vocabulary
constraints."""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

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


def after_commit(callback: Callable[[], None]) -> None:
    """Run this once the current transaction commits (mail to send, a file to drop); forget it if the
    transaction rolls back, since what was rolled back never happened."""
    db.session().info.setdefault(AFTER_COMMIT, []).append(callback)


AFTER_COMMIT = "kafaa.after_commit"


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(AFTER_COMMIT, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _forget_after_commit(session: Session) -> None:
    session.info.pop(AFTER_COMMIT, None)


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
