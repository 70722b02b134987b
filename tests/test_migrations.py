"""Migrations from empty, down and up again, on SQLite and PostgreSQL, and no drift from the models."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from common.database import normalise_database_url
from common.extensions import db
from tests.helpers import TEST_CONFIG, TEST_DATABASE_URL, WORKER


def _fresh_postgresql_database(name: str) -> str:
    admin_engine = sa.create_engine(normalise_database_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin_engine.dispose()
    return TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL migration run skipped: TEST_DATABASE_URL is not set")
    # One per xdist worker, so two workers never drop each other's.
    return _fresh_postgresql_database("kafaa_migration_check" + (f"_{WORKER}" if WORKER else ""))


def test_upgrade_downgrade_upgrade_without_drift(empty_database):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()
