"""What the tests share: constants, the per-worker databases, the row factories and the rolled-back database.

A normal module (imported once, as `tests.helpers`): test modules import from here, never from conftest.py,
which pytest imports on its own and which a second import would run twice.
"""
from __future__ import annotations

import itertools
import os
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.serving import WSGIRequestHandler

from common.extensions import db

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
    "RATELIMIT_STORAGE_URI": "memory://",  # limits start afresh with each test; one test shares them in Redis
    "VERIFICATION_FLUSH_SECONDS": 0,  # counts written at once, so tests can read them
}

# The worker's own PostgreSQL database once one_per_worker() ran (pytest_configure, in conftest.py).
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ... under `pytest -n`; empty otherwise


def one_per_worker() -> None:
    """Under `pytest -n` (make test), every worker gets its own PostgreSQL database (created when missing)
    and its own Redis database, so workers never empty each other's tables or share rate limits.
    Idempotent: the environment records what was done, so a second call changes nothing."""
    global TEST_DATABASE_URL
    if not WORKER or os.environ.get("KAFAA_TEST_WORKER_SETUP") == WORKER:
        TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
        return
    number = int(WORKER.removeprefix("gw"))
    if os.environ.get("TEST_DATABASE_URL"):
        from sqlalchemy.engine import make_url

        from common.database import normalise_database_url

        url = make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
        own = url.set(database=f"{url.database}_{WORKER}")
        engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}):
                conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
        engine.dispose()
        os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    if os.environ.get("REDIS_URL"):
        base, _, index = os.environ["REDIS_URL"].rpartition("/")
        os.environ["REDIS_URL"] = f"{base}/{(int(index or 0) - number) % 16}"
    os.environ["KAFAA_TEST_WORKER_SETUP"] = WORKER
    TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def reset_postgresql(url: str) -> None:
    from common.database import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(sa.text(f"DELETE FROM {name}"))
    db.session.commit()


def table_counts() -> dict[str, int]:
    """Rows per table: compared before and after a refused request to prove nothing was written."""
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # one line per request would drown pytest's output
        pass


# --- the rolled-back database --------------------------------------------------------------------------

def rollback_engine_options(url: str) -> dict[str, Any]:
    """Engine options of the shared test app: one connection (StaticPool) for every session, request, job
    thread and `db.engine.connect()`, so they all see the test's uncommitted rows."""
    options: dict[str, Any] = {"poolclass": sa.pool.StaticPool, "pool_pre_ping": False}
    if url.startswith("sqlite"):
        options["connect_args"] = {"check_same_thread": False}  # job threads borrow it, one at a time
    return options


class _Savepoint:
    __slots__ = ("name", "owner", "wrote", "under_commits")

    def __init__(self, name: str, owner: int | None) -> None:
        self.name, self.owner = name, owner  # owner: id() of the SQLAlchemy Connection; None for a level
        self.wrote = False  # its connection wrote something inside it
        self.under_commits = False  # another connection committed above it


class RollbackDatabase:
    """Every test runs inside one transaction on the engine's single connection, rolled back at its end.

    The driver is put in autocommit mode and this class says BEGIN and ROLLBACK itself. The application
    keeps committing as in production: each transaction SQLAlchemy begins on the engine becomes a SAVEPOINT,
    its commit a RELEASE and its rollback a ROLLBACK TO. Levels nest: a module can build data once in an
    outer level (rolled back when the module ends) and each test then runs in a savepoint above it.

    On a server, what a job thread commits stays committed even if the request that started it then rolls
    back its own (read-only) transaction. Here the thread's savepoint sits above the request's, so such a
    rollback becomes a RELEASE when the request wrote nothing; had it written, it is rolled back for real."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._fairy = engine.raw_connection()  # connects (and initialises the dialect) with the real methods
        self._dbapi = self._fairy.dbapi_connection
        if self.sqlite:
            self._dbapi.isolation_level = None  # pysqlite would otherwise BEGIN and COMMIT on its own
        else:
            self._dbapi.rollback()
            self._dbapi.autocommit = True
        dialect = engine.dialect
        dialect.do_begin = dialect.do_commit = dialect.do_rollback = lambda dbapi_connection: None
        event.listen(engine, "begin", self._begun)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "rollback", self._rolled_back)
        event.listen(engine, "before_cursor_execute", self._executing)
        self._stack: list[_Savepoint] = []  # open savepoints, oldest first; the first is the BEGIN ("")
        self._names = itertools.count(1)

    def _execute(self, *statements: str) -> None:
        cursor = self._dbapi.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()

    def _find(self, owner: int) -> int | None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index].owner == owner:
                return index
        return None

    # Levels: the test's (or the module's) transaction.
    def begin(self) -> str:
        if not self._stack:
            self._execute("BEGIN")
            if not self.sqlite:  # as TRUNCATE ... RESTART IDENTITY did: every test's ids start at 1
                self._execute("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'")
            self._stack.append(_Savepoint("", None))
            return ""
        name = f"level{next(self._names)}"
        self._execute(f"SAVEPOINT {name}")
        self._stack.append(_Savepoint(name, None))
        return name

    def end(self, name: str) -> None:
        """Roll the level back, with whatever the application left open above it."""
        index = next((i for i, savepoint in enumerate(self._stack) if savepoint.owner is None
                      and savepoint.name == name), None)
        if index is None:
            return
        if name:
            self._execute(f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}")
        else:
            self._execute("ROLLBACK")
        del self._stack[index:]

    # The application's transactions, as SQLAlchemy begins and ends them on the shared connection.
    def _begun(self, connection) -> None:
        if not self._stack:
            raise RuntimeError("the database was used outside a test's transaction (the `app` fixture)")
        savepoint = _Savepoint(f"app{next(self._names)}", id(connection))
        self._execute(f"SAVEPOINT {savepoint.name}")
        self._stack.append(savepoint)

    def _executing(self, connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip()[:9].upper().startswith(("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA")):
            return
        index = self._find(id(connection))
        if index is not None:
            self._stack[index].wrote = True

    def _committed(self, connection) -> None:
        index = self._find(id(connection))
        if index is None:  # already released with an older savepoint
            return
        self._execute(f"RELEASE SAVEPOINT {self._stack[index].name}")
        del self._stack[index:]
        for savepoint in self._stack:
            if savepoint.owner is not None and savepoint.owner != id(connection):
                savepoint.under_commits = True

    def _rolled_back(self, connection) -> None:
        index = self._find(id(connection))
        if index is None:
            return
        savepoint = self._stack[index]
        if savepoint.under_commits and not savepoint.wrote:
            self._execute(f"RELEASE SAVEPOINT {savepoint.name}")  # keep what the others committed
        else:
            self._execute(f"ROLLBACK TO SAVEPOINT {savepoint.name}", f"RELEASE SAVEPOINT {savepoint.name}")
        del self._stack[index:]

    def close(self) -> None:
        if self._stack:
            self.end("")
        self._fairy.close()


# --- factories: real rows through the project's own operations (conftest.py wraps them as fixtures) -----

_numbers = itertools.count(1)


class Counter:
    @staticmethod
    def next() -> int:
        return next(_numbers)


def create_user(role: str = "admin", email: str | None = None, trainee_id: int | None = None,
                password: str = PASSWORD, accepted_notice: bool = True):
    """A user; by default one who has accepted the privacy notice, so sign-in lands where it would."""
    from accounts import operations
    from accounts.operations import accept_notice

    user = operations.create_user(None, email or f"{role}{Counter.next()}@kafaa.ma", role, password=password,
                                  trainee_id=trainee_id)
    if accepted_notice:
        accept_notice(user, True)
    db.session.commit()
    return user


def create_module(admin, code: str | None = None, hours: int = 6):
    from skills import operations

    code = code or f"M{Counter.next()}"
    module = operations.create_module(admin, {"code": code, "hours": hours, "title": {
        "fr": f"Module {code}", "ar": f"وحدة {code}", "en": f"Module {code}"}})
    db.session.commit()
    return module


def create_track(admin, code: str | None = None, modules: list[str] | None = None, min_attendance: Any = 0.8,
                 validity_months: int | None = 24):
    from skills import operations

    modules = modules or [create_module(admin).code, create_module(admin).code]
    track = operations.create_track(admin, {
        "code": code or f"T{Counter.next()}", "modules": modules, "min_attendance": min_attendance,
        "validity_months": validity_months,
        "title": {"fr": "Parcours", "ar": "مسار", "en": "Track"}})
    db.session.commit()
    return track


def create_trainee(admin, **fields):
    from skills import operations

    n = Counter.next()
    data = {"name": f"Trainee {n}", "name_ar": f"متدرب {n}", "email": f"trainee{n}@example.ma",
            "category": "engineer", "sector": "health", "region": "rabat-sale-kenitra", "gender": "f",
            "employer": "Ministère de la Santé", **fields}
    trainee = operations.create_trainee(admin, data)
    db.session.commit()
    return trainee


def create_cohort(admin, track=None, trainers=(), trainees=(), code: str | None = None, **fields):
    from skills import operations

    track = track or create_track(admin)
    cohort = operations.create_cohort(admin, {
        "code": code or f"C{Counter.next()}", "track": track.code, "sector": "health",
        "region": "rabat-sale-kenitra", "language": "fr", "starts_on": date(2026, 10, 1),
        "ends_on": date(2026, 12, 20), "trainers": [u.email for u in trainers], **fields})
    if trainees:
        operations.enrol_trainees(admin, cohort, [t.id for t in trainees])
    db.session.commit()
    return cohort


def create_session(admin, cohort, module: str | None = None, starts_at: datetime | None = None, hours: int = 3):
    from common.clock import MOROCCO
    from skills import operations

    session = operations.plan_session(admin, cohort, {
        "module": module or cohort.track.modules[0].code,
        "starts_at": starts_at or datetime(2026, 10, 5, 9, 0, tzinfo=MOROCCO) + timedelta(days=Counter.next()),
        "hours": hours})
    db.session.commit()
    return session


def complete_track(client, headers: dict, admin, trainee, track):
    """Through the API, as a trainer would: a cohort of `track` holding `trainee`, one session attended and
    every module of the track passed. Returns the cohort."""
    cohort = create_cohort(admin, track=track, trainees=[trainee])
    session = create_session(admin, cohort)
    client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers,
               json={"records": [{"trainee_id": trainee.id, "status": "present"}]})
    client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": [
        {"trainee_id": trainee.id, "module": m.code, "passed": True, "score": 90} for m in track.modules]})
    return cohort


_certificate_numbers = itertools.count(1)


def create_certificate_row(trainee, track, issued_on, *, expires_on=None, revoked_at=None, superseded_at=None,
                           recognised=()):
    """A certificate row as issuance leaves it (its frozen record from today's catalogue; `recognised`: the
    module codes the record marks as counted through recognition), without the PDF and signature work:
    for figures over certificates issued on chosen days."""
    from certificates.models import Certificate
    from certificates.operations import certified_record

    number = next(_certificate_numbers)
    certificate = Certificate(
        serial=f"KF-{issued_on.year}-{900_000 + number:06d}", trainee_id=trainee.id, track_id=track.id,
        holder=trainee.name, holder_ar=trainee.name_ar, issued_on=issued_on, expires_on=expires_on, kid="00000000",
        token=f"row-{number}", verification_code="0000-0000", pdf_sha256="0" * 64, revoked_at=revoked_at,
        superseded_at=superseded_at, certified=certified_record(track, tuple(recognised)),
        status_index=900_000 + number)
    db.session.add(certificate)
    db.session.commit()
    return certificate
