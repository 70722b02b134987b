"""Small database helpers that differ by backend."""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import db


def insert_or_update(model):
    """An INSERT that supports ON CONFLICT on both SQLite and PostgreSQL."""
    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)
