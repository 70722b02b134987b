"""The registry at full size: a trainer's attendance screen and a trainee's progress, 1,000,000 attendance rows.

Run with `make bench` (all benchmarks) or `python -m bench registry [--rebuild] [--rounds N] [--plans]`.

The database holds 5,000 trainees in 200 cohorts of 25 on 2 tracks of 4 modules, 200 sessions per cohort
(40,000 sessions, 1,000,000 attendance rows) and 20,000 module results. It is filled through the
project's own models (bulk inserts in chunks) and its schema comes from the migrations, as production's
does. SQLite by default, cached in bench/out/ so later runs skip the fill (`--rebuild` forces one; a cache
behind the migrations is upgraded in place). With BENCH_DATABASE_URL=postgresql://.../bench it fills that
PostgreSQL database instead (created if missing; its name must contain "bench", since a rebuild drops its
schema) and reuses it while its contents match.

Measured through the Flask test client in one process, interleaved round by round with a bare baseline
(GET /healthz, which touches no database): (a) the attendance screen of one session, signed in as the
cohort's trainer through the real login form; (b) GET /api/v1/trainees/ID/progress with a bearer token
from POST /api/v1/tokens. Figures, not a test: the 100 ms target of (a) is printed as PASS/FAIL and the
exit code is 0 either way. Then every SELECT the attendance screen (and the progress call) issues is run
through EXPLAIN QUERY PLAN / EXPLAIN, and any full scan of attendance or sessions is reported: that
screen must read its own cohort's rows and no others.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # `python bench/registry.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.common import (  # noqa: E402
    BENCH_CONFIG,
    PROJECT_ROOT,
    Filling,
    Progress,
    full_scans,
    prepare_postgresql,
    prepare_sqlite,
    print_figures,
    short_sql,
    sign_in,
    sqlite_tree,
    time_side_by_side,
)

FILL_VERSION = 1  # bump when the fill below changes shape, so old caches are not reused
PASSWORD = "bench-password-2026"
TARGET_MS = 100.0
from common.clock import MOROCCO  # noqa: E402 - the pinned zone data, as the app uses

BIG_TABLES = ("attendance", "sessions")  # a full scan of these reads other cohorts' rows
WATCHED_TABLES = BIG_TABLES + ("module_results", "enrollments", "trainees")  # the others are tiny


@dataclass(frozen=True)
class Shape:
    cohorts: int = 200
    per_cohort: int = 25
    sessions: int = 200  # per cohort
    tracks: int = 2
    modules_per_track: int = 4
    cohorts_per_trainer: int = 4

    @property
    def trainees(self) -> int:
        return self.cohorts * self.per_cohort

    @property
    def attendance(self) -> int:
        return self.cohorts * self.per_cohort * self.sessions

    @property
    def trainers(self) -> int:
        return math.ceil(self.cohorts / self.cohorts_per_trainer)

    @property
    def cache_name(self) -> str:
        return f"registry-{self.cohorts}x{self.per_cohort}x{self.sessions}-v{FILL_VERSION}.db"

    # the cohort, trainer and trainee measured: in the middle, so data lies on both sides of them
    @property
    def measured_cohort(self) -> int:
        return self.cohorts // 2

    def cohort_code(self, k: int) -> str:
        return f"BENCH-{k:04d}"

    def trainer_email(self, k: int) -> str:  # trainer of cohort k: each teaches cohorts_per_trainer cohorts
        return f"trainer{k % self.trainers:03d}@bench.kafaa.ma"

    trainee_account = "trainee@bench.kafaa.ma"


# --- the fill -----------------------------------------------------------------------------------------

FIRST_NAMES = [
    ("Fatima-Zahra", "فاطمة الزهراء", "ⴼⴰⵟⵉⵎⴰ ⵣⵣⵀⵔⴰ"), ("Youssef", "يوسف", "ⵢⵓⵙⴼ"), ("Salma", "سلمى", None),
    ("Mohamed", "محمد", "ⵎⵓⵃⵎⵎⴷ"), ("Khadija", "خديجة", None), ("Amine", "أمين", None), ("Nadia", "نادية", None),
    ("Hicham", "هشام", None), ("Imane", "إيمان", None), ("Omar", "عمر", "ⵄⵓⵎⴰⵔ"), ("Zineb", "زينب", None),
    ("Said", "سعيد", None), ("Meryem", "مريم", None), ("Anas", "أنس", None), ("Ilham", "إلهام", None),
    ("Yassine", "ياسين", None), ("Tilelli", "تيليلي", "ⵜⵉⵍⵍⵉⵍⵉ"), ("Rachid", "رشيد", None),
]
LAST_NAMES = [
    ("El Amrani", "العمراني"), ("Benali", "بنعلي"), ("Alaoui", "العلوي"), ("Bennani", "بناني"),
    ("Idrissi", "الإدريسي"), ("Tazi", "التازي"), ("Ouazzani", "الوزاني"), ("Berrada", "برادة"),
    ("Chraibi", "الشرايبي"), ("Lahlou", "لحلو"), ("Amazigh", "أمازيغ"), ("Fassi-Fihri", "الفاسي الفهري"),
    ("Ait Oumghar", "آيت أومغار"), ("Sqalli", "السقلي"), ("Zniber", "زنيبر"),
]
EMPLOYERS = ["Ministère de la Santé", "Ministère de l'Éducation nationale", "Université Mohammed V",
             "Ministère de la Justice", "ONCF", "Agence du Développement Digital", "CHU Ibn Rochd", ""]


def _fast_sqlite(dbapi_connection, _record) -> None:
    """The fill writes into a throwaway file: no journal sync, a large page cache."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA journal_mode = MEMORY")
    cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    cursor.close()


def fill(url: str, shape: Shape, workdir: Path) -> float:
    """Migrate an empty database and fill it; returns the seconds taken."""
    from flask_migrate import upgrade

    from app import create_app
    from common.extensions import db

    app = create_app({**BENCH_CONFIG, "DATABASE_URL": url, "KEYS_DIR": str(workdir / "keys")})
    start = time.perf_counter()
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _fast_sqlite)
        upgrade()
        _fill_rows(shape, Progress("fill", shape.attendance, "attendance rows"))
        if db.engine.dialect.name == "postgresql":  # as autovacuum would, soon after a bulk load
            db.session.remove()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - start


def _insert(model, rows: list[dict], chunk: int = 5000) -> None:
    from common.extensions import db

    for i in range(0, len(rows), chunk):
        db.session.execute(sa.insert(model), rows[i:i + chunk])


def _fill_rows(shape: Shape, progress: Progress) -> None:
    from accounts.models import User
    from accounts.passwords import hash_password
    from common.extensions import db
    from skills.models import (
        Attendance,
        Cohort,
        Enrollment,
        Module,
        ModuleResult,
        Track,
        Trainee,
        TrainingSession,
        cohort_trainers,
        track_modules,
    )
    from skills.vocab import CATEGORIES, REGIONS, SECTORS

    rng = random.Random(20261126)
    progress.update(0)

    # modules and tracks
    module_codes = [f"IA-M{n + 1:02d}" for n in range(shape.tracks * shape.modules_per_track)]
    _insert(Module, [{"code": code, "title_fr": f"Module {code}", "title_ar": f"وحدة {code}",
                      "title_en": f"Module {code}", "hours": Decimal("30")} for code in module_codes])
    _insert(Track, [{"code": f"IA-T{t + 1}", "title_fr": f"Parcours {t + 1}", "title_ar": f"مسار {t + 1}",
                     "title_en": f"Track {t + 1}", "min_attendance": Decimal("0.8"), "validity_months": 24}
                    for t in range(shape.tracks)])
    module_id = dict(db.session.execute(sa.select(Module.code, Module.id)).all())
    track_ids = [db.session.scalar(sa.select(Track.id).where(Track.code == f"IA-T{t + 1}")) for t in range(shape.tracks)]
    track_module_ids = [[module_id[c] for c in module_codes[t * shape.modules_per_track:(t + 1) * shape.modules_per_track]]
                        for t in range(shape.tracks)]
    db.session.execute(track_modules.insert(), [{"track_id": track_ids[t], "module_id": m}
                                                for t in range(shape.tracks) for m in track_module_ids[t]])

    # accounts: an admin and the trainers (the trainee account comes once its trainee exists)
    password_hash = hash_password(PASSWORD)
    _insert(User, [{"email": "admin@bench.kafaa.ma", "role": "admin", "password_hash": password_hash}]
            + [{"email": f"trainer{j:03d}@bench.kafaa.ma", "role": "trainer", "password_hash": password_hash}
               for j in range(shape.trainers)])
    user_id = dict(db.session.execute(sa.select(User.email, User.id)).all())

    # cohorts, each led by one trainer, spread over two years
    sectors, regions, categories = list(SECTORS), list(REGIONS), list(CATEGORIES)
    cohorts = []
    for k in range(shape.cohorts):
        starts_on = date(2025, 1, 6) + timedelta(days=3 * k)
        cohorts.append({"code": shape.cohort_code(k), "track_id": track_ids[k % shape.tracks],
                        "sector": sectors[k % len(sectors)], "region": regions[(k // len(sectors)) % len(regions)],
                        "language": ("fr", "ar", "fr", "en", "ary")[k % 5], "starts_on": starts_on,
                        "ends_on": starts_on + timedelta(days=7 * (shape.sessions // 10 + 1))})
    _insert(Cohort, cohorts)
    cohort_id = dict(db.session.execute(sa.select(Cohort.code, Cohort.id)).all())
    db.session.execute(cohort_trainers.insert(), [
        {"cohort_id": cohort_id[c["code"]], "user_id": user_id[shape.trainer_email(k)]} for k, c in enumerate(cohorts)])

    # trainees, 25 to a cohort, and their enrollments
    trainees = []
    for n in range(shape.trainees):
        first, first_ar, first_tfng = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        last, last_ar = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        cohort = cohorts[n // shape.per_cohort]
        trainees.append({"name": f"{first} {last}", "name_ar": f"{first_ar} {last_ar}",
                         "name_tfng": first_tfng if first_tfng and rng.random() < 0.5 else None,
                         "email": f"t{n:05d}@bench.kafaa.ma", "category": rng.choice(categories),
                         "sector": cohort["sector"],
                         "region": cohort["region"] if rng.random() < 0.8 else rng.choice(regions),
                         "gender": rng.choice(("f", "m")), "employer": rng.choice(EMPLOYERS)})
    _insert(Trainee, trainees)
    trainee_id = dict(db.session.execute(sa.select(Trainee.email, Trainee.id)).all())
    members = [[trainee_id[trainees[k * shape.per_cohort + i]["email"]] for i in range(shape.per_cohort)]
               for k in range(shape.cohorts)]
    _insert(Enrollment, [{"cohort_id": cohort_id[c["code"]], "trainee_id": t, "enrolled_by_id": user_id["admin@bench.kafaa.ma"]}
                         for k, c in enumerate(cohorts) for t in members[k]])
    _insert(User, [{"email": shape.trainee_account, "role": "trainee", "password_hash": password_hash,
                    "trainee_id": members[shape.measured_cohort][0]}])

    # sessions: mornings and afternoons on weekdays, the track's modules in turn
    sessions = []
    for k, c in enumerate(cohorts):
        day, trainer = c["starts_on"], user_id[shape.trainer_email(k)]
        modules = track_module_ids[k % shape.tracks]
        for s in range(shape.sessions):
            while day.weekday() >= 5:
                day += timedelta(days=1)
            starts_at = datetime(day.year, day.month, day.day, 9 if s % 2 == 0 else 14, tzinfo=MOROCCO)
            sessions.append({"cohort_id": cohort_id[c["code"]], "module_id": modules[s * len(modules) // shape.sessions],
                             "starts_at": starts_at, "hours": Decimal("3"), "created_by_id": trainer})
            if s % 2 == 1:
                day += timedelta(days=1)
    _insert(TrainingSession, sessions)
    del sessions
    by_cohort: dict[int, list[tuple[int, datetime]]] = {}
    for sid, cid, starts_at in db.session.execute(sa.select(TrainingSession.id, TrainingSession.cohort_id,
                                                            TrainingSession.starts_at)
                                                  .order_by(TrainingSession.cohort_id, TrainingSession.starts_at,
                                                            TrainingSession.id)):
        by_cohort.setdefault(cid, []).append((sid, starts_at))
    db.session.commit()

    # attendance: each trainee has their own habit; about one in six ends below the 80 % minimum
    done = 0
    for k, c in enumerate(cohorts):
        trainer = user_id[shape.trainer_email(k)]
        habits = [rng.uniform(0.25, 0.4) if rng.random() < 0.15 else rng.uniform(0.0, 0.15) for _ in members[k]]
        rows = []
        for sid, starts_at in by_cohort[cohort_id[c["code"]]]:
            recorded_at = starts_at + timedelta(hours=3)
            for tid, absent in zip(members[k], habits):
                r = rng.random()
                status = ("absent" if r < absent else "excused" if r < absent + 0.04
                          else "late" if r < absent + 0.10 else "present")
                rows.append({"session_id": sid, "trainee_id": tid, "status": status,
                             "recorded_at": recorded_at, "recorded_by_id": trainer})
        _insert(Attendance, rows)
        done += len(rows)
        if k % 10 == 9:
            db.session.commit()
        progress.update(done)
    db.session.commit()

    # module results: most pass; some fail; a few not yet recorded
    results = []
    for k, c in enumerate(cohorts):
        trainer = user_id[shape.trainer_email(k)]
        for tid in members[k]:
            for m in track_module_ids[k % shape.tracks]:
                if rng.random() < 0.05:
                    continue
                score = Decimal(rng.randint(35, 100))
                results.append({"cohort_id": cohort_id[c["code"]], "trainee_id": tid, "module_id": m,
                                "passed": score >= 50, "score": score, "recorded_by_id": trainer,
                                "recorded_at": datetime.combine(c["ends_on"], datetime.min.time(), tzinfo=timezone.utc)})
    _insert(ModuleResult, results)
    db.session.commit()


# --- the database: SQLite cache or PostgreSQL ---------------------------------------------------------

def filling(shape: Shape, workdir: Path) -> Filling:
    return Filling("registry", shape.cache_name, {"trainees": shape.trainees, "attendance": shape.attendance},
                   lambda url: fill(url, shape, workdir))


# --- measuring ----------------------------------------------------------------------------------------

def measure(url: str, shape: Shape, workdir: Path, *, rounds: int, warmup: int, full_plans: bool) -> None:
    from app import create_app
    from common.extensions import db
    from skills.models import Cohort, TrainingSession

    app = create_app({**BENCH_CONFIG, "DATABASE_URL": url, "KEYS_DIR": str(workdir / "keys")})
    code = shape.cohort_code(shape.measured_cohort)
    with app.app_context():  # popped before timing: every request then gets its own, as in production
        cohort_id = db.session.scalar(sa.select(Cohort.id).where(Cohort.code == code))
        session_id = db.session.scalar(sa.select(TrainingSession.id).where(TrainingSession.cohort_id == cohort_id)
                                       .order_by(TrainingSession.starts_at, TrainingSession.id)
                                       .offset(shape.sessions // 2).limit(1))
        engine = db.engine
        db.session.remove()

    client = app.test_client()
    sign_in(client, shape.trainer_email(shape.measured_cohort), PASSWORD)
    response = client.post("/api/v1/tokens", json={"email": shape.trainee_account, "password": PASSWORD})
    assert response.status_code == 201, f"token refused: {response.status_code} {response.get_data(as_text=True)}"
    bearer = {"Authorization": f"Bearer {response.json['token']}"}
    attendance_url = f"/cohorts/{code}/sessions/{session_id}"
    with app.app_context():
        from accounts.models import User
        trainee_id = db.session.scalar(sa.select(User.trainee_id).where(User.email == shape.trainee_account))
        db.session.remove()
    progress_url = f"/api/v1/trainees/{trainee_id}/progress"

    def get(url: str, headers: dict | None = None):
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise AssertionError(f"GET {url}: {response.status_code}")
        return response

    # the screens show what they should, before they are timed
    page = get(attendance_url).get_data(as_text=True)
    rows = page.count('class="roster-row')
    assert rows == shape.per_cohort, f"attendance screen shows {rows} trainees, not {shape.per_cohort}"
    progress = get(progress_url, bearer).json
    assert progress["tracks"] and progress["tracks"][0]["counted"] > 0, progress

    print(f"\nmeasured: {attendance_url} ({rows} trainees, trainer {shape.trainer_email(shape.measured_cohort)}) "
          f"and {progress_url} (the trainee's own token: {progress['tracks'][0]['counted']} sessions counted)")
    print(f"{rounds} rounds after {warmup} warm-up rounds, interleaved; x baseline = median of per-round ratios")
    figures = time_side_by_side({
        "baseline GET /healthz": lambda: get("/healthz"),
        "(a) attendance screen": lambda: get(attendance_url),
        "(b) trainee progress API": lambda: get(progress_url, bearer),
    }, rounds=rounds, warmup=warmup)
    print_figures(figures, {"(a) attendance screen": TARGET_MS})

    plans_attendance = explain_requests(app, engine, lambda: get(attendance_url))
    plans_progress = explain_requests(app, engine, lambda: get(progress_url, bearer))
    report_plans("(a) attendance screen", plans_attendance, full_plans)
    report_plans("(b) trainee progress API", plans_progress, full_plans)


# --- query plans --------------------------------------------------------------------------------------

@dataclass
class Plan:
    sql: str
    lines: list[str]
    full_scans: list[str]  # tables read whole (or through a whole index, which is no better)


def explain_requests(app, engine, request) -> list[Plan]:
    """Every SELECT one request issues, with its query plan."""
    from common.extensions import db

    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        request()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    plans = []
    with app.app_context():
        conn = db.session.connection()
        for statement, parameters in captured:
            if not re.match(r"\s*(SELECT|WITH)\b", statement, re.IGNORECASE):
                continue
            if engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
                lines = sqlite_tree(rows)
            else:
                import psycopg

                raw = conn.connection.dbapi_connection
                literal = psycopg.ClientCursor(raw).mogrify(statement, parameters)
                with raw.cursor() as cursor:
                    cursor.execute(f"EXPLAIN {literal}")
                    lines = [row[0] for row in cursor.fetchall()]
            plans.append(Plan(statement, lines, full_scans(lines, engine.dialect.name, WATCHED_TABLES)))
        db.session.rollback()
        db.session.remove()
    return plans


def report_plans(label: str, plans: list[Plan], full: bool) -> None:
    print(f"\nquery plans of the {len(plans)} SELECTs of {label}:")
    for n, plan in enumerate(plans, 1):
        sql = short_sql(plan.sql)
        print(f"{n:>3}. {sql if full or len(sql) <= 150 else sql[:147] + '...'}")
        for line in plan.lines:
            print(f"       {line}")
    big = [(n, p) for n, p in enumerate(plans, 1) if set(p.full_scans) & set(BIG_TABLES)]
    small = [(n, p) for n, p in enumerate(plans, 1) if p.full_scans and not set(p.full_scans) & set(BIG_TABLES)]
    if big:
        for n, plan in big:
            print(f"FULL SCAN of {', '.join(sorted(set(plan.full_scans)))} in statement {n}:\n    "
                  + re.sub(r"\s+", " ", plan.sql).strip())
    else:
        print(f"no full scan of {' or '.join(BIG_TABLES)}: {label} reads through indexes only")
    for n, plan in small:
        print(f"note: statement {n} reads all of {', '.join(sorted(set(plan.full_scans)))}")


# --- entry point --------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench registry", description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="fill the database afresh, ignoring the cache")
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured rounds first (default 5)")
    parser.add_argument("--cohorts", type=int, default=Shape.cohorts,
                        help=f"cohorts of 25 trainees with 200 sessions each (default {Shape.cohorts}: 1,000,000 "
                             "attendance rows); fewer for a quick try")
    parser.add_argument("--plans", action="store_true", help="print each statement's SQL in full")
    args = parser.parse_args(argv)
    shape = Shape(cohorts=args.cohorts)
    print(f"registry: {shape.trainees:,} trainees, {shape.cohorts} cohorts of {shape.per_cohort}, "
          f"{shape.cohorts * shape.sessions:,} sessions, {shape.attendance:,} attendance rows")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kafaa-bench-") as tmp:
        workdir = Path(tmp)
        postgresql_url = os.environ.get("BENCH_DATABASE_URL")
        if postgresql_url:
            url = prepare_postgresql(postgresql_url, filling(shape, workdir), args.rebuild, workdir)
        else:
            url = prepare_sqlite(filling(shape, workdir), args.rebuild, workdir)
        measure(url, shape, workdir, rounds=args.rounds, warmup=args.warmup, full_plans=args.plans)
    print(f"\nregistry benchmark: {time.perf_counter() - started:.1f} s in all")


if __name__ == "__main__":
    main()
