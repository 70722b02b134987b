"""Test fixtures. Every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

The schema is built once per database by running the Alembic migrations (so the migrations are what is
tested). One application per database and worker serves the tests; each test runs inside a transaction
on its single connection, rolled back at the end (tests.helpers.RollbackDatabase), so every test starts
from empty tables without emptying them. Tests whose writes come from elsewhere (a live server thread,
another app or process, a restore) carry `@pytest.mark.multiprocess` (tests/browser/conftest.py gives it to
every browser test): they get an application of their own, and the tables are emptied after them.

Constants and helpers that tests import live in tests/helpers.py.
"""
from __future__ import annotations

import gc
import threading
import warnings
from functools import partial

import pytest
from flask_migrate import upgrade
from hypothesis import settings
from werkzeug.serving import make_server

from app import create_app
from common.extensions import db, limiter
from tests import helpers
from tests.helpers import (
    DATABASES,
    TEST_CONFIG,
    PASSWORD,
    QuietHandler,
    RollbackDatabase,
    create_cohort,
    create_module,
    create_session,
    create_trainee,
    create_track,
    create_user,
    empty_all_tables,
    reset_postgresql,
    rollback_engine_options,
)


# Property tests draw the same examples on every run, so that a run never fails by the luck of its seed (a
# rare case found once is kept as a test of its own). A wider, random search, run after changing a rule:
#   .venv/bin/pytest tests/test_disclosure.py --hypothesis-profile=explore --hypothesis-seed=N  (N = 1, 2, ...)
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("deterministic")


def pytest_configure(config):
    helpers.one_per_worker()


def pytest_report_header(config):
    if not helpers.TEST_DATABASE_URL:
        return "PostgreSQL run skipped: set TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/test) to run it."
    return f"Databases: SQLite and PostgreSQL ({helpers.TEST_DATABASE_URL.split('@')[-1]})"


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database of each kind, built once per test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kafaa-test.db'}"
    else:
        url = helpers.TEST_DATABASE_URL
        reset_postgresql(url)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    """Signing keys shared by the whole run: generating and loading them per test would dominate."""
    return str(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def shared_app(database_url, keys_dir, tmp_path_factory):
    """The application every rolled-back test uses, built once per database: its engine has a single
    connection, on which RollbackDatabase nests each test's transaction."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "KEYS_DIR": keys_dir,
                      "EXPORTS_DIR": str(tmp_path_factory.mktemp("exports")),
                      "SQLALCHEMY_ENGINE_OPTIONS": rollback_engine_options(database_url)})
    with app.app_context():
        rollback = RollbackDatabase(db.engine)
    app.extensions["tests.rollback"] = rollback
    yield app
    with app.app_context():
        rollback.close()
        db.engine.dispose()


def _forget_pending_verification_counts() -> None:
    """Counts buffered by a test (VERIFICATION_FLUSH_SECONDS raised) name its rolled-back certificates."""
    from certificates.operations import verification_counter

    with verification_counter._lock:
        verification_counter._pending.clear()


@pytest.fixture
def app(request, database_url, keys_dir, tmp_path):
    if request.node.get_closest_marker("multiprocess"):
        yield from _app_of_its_own(database_url, keys_dir, tmp_path)
        return
    for name in ("live_url",):
        if name in request.fixturenames:
            raise pytest.UsageError(f"{request.node.nodeid} uses {name}: mark it @pytest.mark.multiprocess")
    if "prepared_data" in request.fixturenames:  # data a module builds once, below each test's transaction
        request.getfixturevalue("prepared_data")
    app = request.getfixturevalue("shared_app")
    rollback: RollbackDatabase = app.extensions["tests.rollback"]
    config = dict(app.config)
    app.config["EXPORTS_DIR"] = str(tmp_path / "exports")
    with app.app_context():
        limiter.init_app(app)  # the limiter is shared by every app built: bind it back, with fresh counts
        level = rollback.begin()
        try:
            yield app
        finally:
            db.session.remove()
            rollback.end(level)
            _forget_pending_verification_counts()
    app.config.clear()
    app.config.update(config)


def _app_of_its_own(database_url, keys_dir, tmp_path):
    """A multiprocess test: an application of its own on a normal engine, whose writes are real commits,
    and empty tables after it."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "KEYS_DIR": keys_dir,
                      "EXPORTS_DIR": str(tmp_path / "exports")})
    with app.app_context():
        yield app
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()
    _forget_pending_verification_counts()
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

@pytest.fixture
def make_user(app):
    return create_user


@pytest.fixture
def admin(make_user):
    return make_user("admin", "admin@kafaa.ma")


@pytest.fixture
def make_module(app, admin):
    return partial(create_module, admin)


@pytest.fixture
def make_track(app, admin, make_module):
    return partial(create_track, admin)


@pytest.fixture
def make_trainee(app, admin):
    return partial(create_trainee, admin)


@pytest.fixture
def make_cohort(app, admin, make_track):
    return partial(create_cohort, admin)


@pytest.fixture
def make_session(app, admin):
    return partial(create_session, admin)


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
