"""Test fixtures. Every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

The schema is built once per database by running the Alembic migrations (so the migrations are what is
tested), and every test starts from empty tables.
"""
from __future__ import annotations

import gc
import os
import threading
import warnings
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from common.extensions import db


def _one_per_worker() -> None:
    """Under `pytest -n` (make test), every worker gets its own PostgreSQL database (created when missing)
    and its own Redis database, so workers never empty each other's tables or share rate limits."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ...
    if not worker:
        return
    number = int(worker.removeprefix("gw"))
    if os.environ.get("TEST_DATABASE_URL"):
        from sqlalchemy.engine import make_url

        from common.database import normalise_database_url

        url = make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
        own = url.set(database=f"{url.database}_{worker}")
        engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}):
                conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
        engine.dispose()
        os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    if os.environ.get("REDIS_URL"):
        base, _, index = os.environ["REDIS_URL"].rpartition("/")
        os.environ["REDIS_URL"] = f"{base}/{(int(index or 0) - number) % 16}"


_one_per_worker()
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
PASSWORD = "correct horse battery"

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,  # one test module turns it back on to check every form refuses a missing token
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 64,  # parallelism 4 needs at least 8 KiB per lane
    "SECRET_KEY": "test-secret",
    "BASE_URL": "https://kafaa.test",
    "PDF_SIGNER_DEVELOPMENT": True,  # https without PDF_SIGNER_CERT: a generated development signer
    "SERVER_NAME": None,
    "JOBS_SYNCHRONOUS": True,  # background jobs finish before the request that started them returns
    "JOBS_IN_PROCESS": True,  # even when REDIS_URL is set (CI); test_jobs.py runs the RQ path itself
    "RATELIMIT_STORAGE_URI": "memory://",
    "VERIFICATION_FLUSH_SECONDS": 0,  # counts written at once, so tests can read them  # limits start afresh with each app; one test shares them in Redis
}


def pytest_report_header(config):
    if not TEST_DATABASE_URL:
        return "PostgreSQL run skipped: set TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/test) to run it."
    return f"Databases: SQLite and PostgreSQL ({TEST_DATABASE_URL.split('@')[-1]})"


def reset_postgresql(url: str) -> None:
    from common.database import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database of each kind, built once per test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kafaa-test.db'}"
    else:
        url = TEST_DATABASE_URL
        reset_postgresql(url)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(sa.text(f"DELETE FROM {name}"))
    db.session.commit()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    """Signing keys shared by the whole run: generating and loading them per test would dominate."""
    return str(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def app(database_url, keys_dir, tmp_path):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "KEYS_DIR": keys_dir,
                      "EXPORTS_DIR": str(tmp_path / "exports")})
    with app.app_context():
        yield app
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()
    # A connection still held when the engine was disposed (a live-server thread, a streamed response the
    # test did not read) is closed by the garbage collector: do it now, quietly, rather than let its
    # ResourceWarning surface at random in a later, unrelated test.
    if database_url.startswith("postgresql"):  # only psycopg warns about a connection it finds open
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.fixture
def new_app():
    """Build another application (a second instance, another configuration); its connections are closed
    at the end of the test, so no pooled connection is left for the garbage collector to find."""
    made = []

    def make(config: dict):
        application = create_app({**TEST_CONFIG, **config})
        made.append(application)
        return application
    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # one line per request would drown pytest's output
        pass


@pytest.fixture
def live_url(app):
    """The app on a free port. Its BASE_URL becomes the server's address, so links and QR codes lead to it."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    app.config["SESSION_COOKIE_SECURE"] = False  # plain http on loopback
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- factories: each returns a callable making real rows through the project's own operations --------

class Counter:
    n = 0

    @classmethod
    def next(cls) -> int:
        cls.n += 1
        return cls.n


@pytest.fixture
def make_user(app):
    from accounts import operations
    from accounts.operations import accept_notice

    def make(role: str = "admin", email: str | None = None, trainee_id: int | None = None, password: str = PASSWORD,
             accepted_notice: bool = True):
        """A user; by default one who has accepted the privacy notice, so sign-in lands where it would."""
        user = operations.create_user(None, email or f"{role}{Counter.next()}@kafaa.ma", role, password=password,
                                      trainee_id=trainee_id)
        if accepted_notice:
            accept_notice(user, True)
        db.session.commit()
        return user
    return make


@pytest.fixture
def admin(make_user):
    return make_user("admin", "admin@kafaa.ma")


@pytest.fixture
def make_module(app, admin):
    from skills import operations

    def make(code: str | None = None, hours: int = 6):
        code = code or f"M{Counter.next()}"
        module = operations.create_module(admin, {"code": code, "hours": hours, "title": {
            "fr": f"Module {code}", "ar": f"وحدة {code}", "en": f"Module {code}"}})
        db.session.commit()
        return module
    return make


@pytest.fixture
def make_track(app, admin, make_module):
    from skills import operations

    def make(code: str | None = None, modules: list[str] | None = None, min_attendance: Any = 0.8,
             validity_months: int | None = 24):
        modules = modules or [make_module().code, make_module().code]
        track = operations.create_track(admin, {
            "code": code or f"T{Counter.next()}", "modules": modules, "min_attendance": min_attendance,
            "validity_months": validity_months,
            "title": {"fr": "Parcours", "ar": "مسار", "en": "Track"}})
        db.session.commit()
        return track
    return make


@pytest.fixture
def make_trainee(app, admin):
    from skills import operations

    def make(**fields):
        n = Counter.next()
        data = {"name": f"Trainee {n}", "name_ar": f"متدرب {n}", "email": f"trainee{n}@example.ma",
                "category": "engineer", "sector": "health", "region": "rabat-sale-kenitra", "gender": "f",
                "employer": "Ministère de la Santé", **fields}
        trainee = operations.create_trainee(admin, data)
        db.session.commit()
        return trainee
    return make


@pytest.fixture
def make_cohort(app, admin, make_track):
    from skills import operations

    def make(track=None, trainers=(), trainees=(), code: str | None = None, **fields):
        track = track or make_track()
        cohort = operations.create_cohort(admin, {
            "code": code or f"C{Counter.next()}", "track": track.code, "sector": "health",
            "region": "rabat-sale-kenitra", "language": "fr", "starts_on": date(2026, 10, 1),
            "ends_on": date(2026, 12, 20), "trainers": [u.email for u in trainers], **fields})
        if trainees:
            operations.enrol_trainees(admin, cohort, [t.id for t in trainees])
        db.session.commit()
        return cohort
    return make


@pytest.fixture
def make_session(app, admin):
    from common.clock import MOROCCO
    from skills import operations

    def make(cohort, module: str | None = None, starts_at: datetime | None = None, hours: int = 3):
        session = operations.plan_session(admin, cohort, {
            "module": module or cohort.track.modules[0].code,
            "starts_at": starts_at or datetime(2026, 10, 5, 9, 0, tzinfo=MOROCCO) + timedelta(days=Counter.next()),
            "hours": hours})
        db.session.commit()
        return session
    return make


@pytest.fixture
def token_for(client):
    """Authorization headers for a user, through the real token endpoint."""
    def headers(user) -> dict[str, str]:
        response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
        assert response.status_code == 201, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}
    return headers


@pytest.fixture
def login(client):
    """Sign a user in through the real login form."""
    def sign_in(user):
        client.post("/logout")
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return sign_in


def table_counts() -> dict[str, int]:
    """Rows per table: compared before and after a refused request to prove nothing was written."""
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}
