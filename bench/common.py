"""Helpers shared by the benchmarks: the application configuration they run with, and timing of several
variants side by side (this machine's speed drifts by up to 2x from one minute to the next, so a figure
means something only as a ratio to a baseline measured in the same rounds)."""
from __future__ import annotations

import math
import re
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_ROOT / "bench" / "out"  # gitignored: caches and outputs between runs

if str(PROJECT_ROOT) not in sys.path:  # `python bench/registry.py` from anywhere
    sys.path.insert(0, str(PROJECT_ROOT))

# As tests/conftest.py TEST_CONFIG: cheap argon2 (a login costs microseconds, not the 64 MiB production
# hash, which would swamp the figures), no CSRF token to fetch. BASE_URL is plain http so the test
# client keeps the session cookie without pretending to be on https.
BENCH_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 64,
    "SECRET_KEY": "bench-secret",
    "BASE_URL": "http://kafaa.bench",
    "SERVER_NAME": None,
}


def sign_in(client, email: str, password: str) -> None:
    """Sign in through the form as a person would, accepting the privacy notice that a first sign-in of an
    account made in bulk (no invitation) asks for, so the pages measured are the pages, not the notice."""
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, f"login failed: {response.status_code}"
    # The person's own starting page (where "/" sends a signed-in person) leads to the notice until it is
    # accepted; "/" itself is a public page, which never asks.
    start = client.get("/")
    assert start.status_code == 302, f"signed in, / answered {start.status_code}, not a redirect to a starting page"
    asked = client.get(start.headers["Location"])
    if asked.status_code == 302 and "/privacy/accept" in asked.headers["Location"]:
        accepted = client.post("/privacy/accept", data={"accept_privacy": "y"})
        assert accepted.status_code == 302, f"privacy notice not accepted: {accepted.status_code}"


@dataclass(frozen=True)
class Figures:
    name: str
    samples_ms: list[float]
    ratios: list[float]  # each sample over the baseline sample of the same round

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: p95 of 30 samples is the 29th smallest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def time_side_by_side(variants: Mapping[str, Callable[[], object]], *, rounds: int = 30,
                      warmup: int = 5) -> dict[str, Figures]:
    """Run every variant once per round, in turn (a, b, c, a, b, c ...), after `warmup` unmeasured rounds.
    The first variant is the baseline; each other sample is also kept as a ratio to the baseline sample of
    its own round, so drift between rounds cancels out."""
    for _ in range(warmup):
        for fn in variants.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    base = samples[next(iter(variants))]
    return {name: Figures(name, s, [x / b for x, b in zip(s, base)]) for name, s in samples.items()}


def print_figures(figures: Mapping[str, Figures], targets_ms: Mapping[str, float] | None = None) -> None:
    """One line per variant: median and p95 in ms, and the median ratio to the baseline (first variant)."""
    targets_ms = targets_ms or {}
    width = max(len(name) for name in figures) + 2
    print(f"{'':<{width}}{'median ms':>10}{'p95 ms':>9}{'x baseline':>12}")
    for i, (name, f) in enumerate(figures.items()):
        ratio = "1 (base)" if i == 0 else f"{f.ratio:,.0f}" if f.ratio >= 100 else f"{f.ratio:.1f}"
        print(f"{name:<{width}}{f.median:>10.2f}{f.p95:>9.2f}{ratio:>12}")
    for name, target in targets_ms.items():
        f = figures[name]
        verdict = "PASS" if f.p95 < target else "FAIL"
        print(f"{verdict}: {name}: p95 {f.p95:.1f} ms (median {f.median:.1f} ms) against a target of "
              f"{target:.0f} ms (information, not a test)")


class Progress:
    """A percentage line: rewritten in place on a terminal, printed every 10 % otherwise (logs, CI)."""

    def __init__(self, label: str, total: int, unit: str = "rows") -> None:
        self.label, self.total, self.unit = label, total, unit
        self.start = time.perf_counter()
        self.tty = sys.stdout.isatty()
        self.last_tenth = -1

    def update(self, done: int) -> None:
        pct = 100 * done / self.total if self.total else 100
        line = (f"{self.label}: {pct:5.1f} % ({done:,} / {self.total:,} {self.unit}, "
                f"{time.perf_counter() - self.start:.1f} s)")
        if self.tty:
            print("\r" + line, end="", flush=True)
        elif int(pct // 10) > self.last_tenth:
            self.last_tenth = int(pct // 10)
            print(line, flush=True)

    def done(self) -> float:
        elapsed = time.perf_counter() - self.start
        if self.tty:
            print()
        return elapsed


# --- query plans, shared by the benchmarks that print them -------------------------------------------

def sqlite_tree(rows) -> list[str]:
    depth = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + detail)
    return lines


def plan_table(name: str) -> str:
    """The table behind a name or alias in a plan (SQLAlchemy aliases look like attendance_1)."""
    return re.sub(r"_\d+$", "", name)


def full_scans(lines: list[str], dialect: str, watched: tuple[str, ...]) -> list[str]:
    """Tables of `watched` that a plan reads whole (or through a whole index, which is no better)."""
    found = []
    if dialect == "sqlite":
        for line in lines:
            # SEARCH uses an index with a condition; SCAN reads the whole table or the whole index
            match = re.match(r"\s*SCAN (\w+)", line)
            if match and plan_table(match.group(1)) in watched:
                found.append(plan_table(match.group(1)))
        return found
    for i, line in enumerate(lines):
        match = re.search(r"(Parallel )?(Seq Scan|Index Only Scan|Index Scan)(?: Backward)?(?: using \S+)? on (\w+)",
                          line)
        if not match or plan_table(match.group(3)) not in watched:
            continue
        if match.group(2) == "Seq Scan":
            found.append(plan_table(match.group(3)))
            continue
        details = []  # the node's own detail lines, up to the next node
        for following in lines[i + 1:]:
            if "->" in following:
                break
            details.append(following)
        if not any("Index Cond" in d for d in details):
            found.append(plan_table(match.group(3)))
    return found


def short_sql(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql).strip()
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql, count=1)


# --- the database a benchmark measures: a cached SQLite file, or a PostgreSQL database reused ---------

def migration_heads() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return set(ScriptDirectory.from_config(config).get_heads())


@dataclass(frozen=True)
class Filling:
    """What a benchmark's database must hold, and how to fill one: `fill(url)` returns the seconds it took."""

    bench: str  # the benchmark's name, for messages and the working copy's file name
    cache_name: str
    counts: Mapping[str, int]  # rows expected per table: a database holding other counts is refilled
    fill: Callable[[str], float]

    def state(self, url: str) -> str:
        """'ok', 'behind' (an older migration: upgrade it) or 'refill'."""
        import sqlalchemy as sa

        from common.database import normalise_database_url

        engine = sa.create_engine(normalise_database_url(url))
        try:
            with engine.connect() as conn:
                revisions = set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
                counts = {table: conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) for table in self.counts}
        except sa.exc.DBAPIError:  # no schema yet
            return "refill"
        finally:
            engine.dispose()
        if counts != dict(self.counts):
            return "refill"
        return "ok" if revisions == migration_heads() else "behind"


def upgrade_in_place(url: str, workdir: Path) -> bool:
    """Apply newer migrations to a filled database (as production would get them); False if that fails."""
    from flask_migrate import upgrade

    from app import create_app
    from common.extensions import db

    app = create_app({**BENCH_CONFIG, "DATABASE_URL": url, "KEYS_DIR": str(workdir / "keys")})
    try:
        with app.app_context():
            upgrade()
            if db.engine.dialect.name == "postgresql":  # fresh statistics for what the migration changed
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ANALYZE")
            db.engine.dispose()
        return True
    except (Exception, SystemExit) as error:  # any failure (Flask-Migrate exits on one): fill afresh instead
        print(f"upgrading it failed ({error.__class__.__name__}: {error}); filling afresh")
        return False


def prepare_sqlite(filling: Filling, rebuild: bool, workdir: Path) -> str:
    """A working copy of the cached database, filled or upgraded first when needed."""
    import os
    import shutil
    import sqlite3

    cache = OUT_DIR / filling.cache_name
    status = "refill" if rebuild or not cache.exists() else filling.state(f"sqlite:///{cache}")
    if status == "behind":
        print(f"cached {cache.relative_to(PROJECT_ROOT)} is not at the migrations' head: upgrading it")
        status = "ok" if upgrade_in_place(f"sqlite:///{cache}", workdir) else "refill"
    if status == "refill":
        built = workdir / "fill.db"
        print(f"filling a fresh SQLite database ({'--rebuild' if rebuild else 'no usable cache'}) ...", flush=True)
        seconds = filling.fill(f"sqlite:///{built}")
        print(f"fill took {seconds:.1f} s ({built.stat().st_size / 2**20:.0f} MiB)")
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        staged = cache.with_suffix(".tmp")
        shutil.copyfile(built, staged)
        os.replace(staged, cache)  # a run stopped half-way never leaves a half-written cache
        built.unlink()
    working = workdir / f"{filling.bench}.db"
    shutil.copyfile(cache, working)  # measuring writes a little (login time, tokens): keep the cache pristine
    print(f"database: SQLite {sqlite3.sqlite_version}, {cache.stat().st_size / 2**20:.0f} MiB, cached in "
          f"{cache.relative_to(PROJECT_ROOT)} (`python -m bench {filling.bench} --rebuild` refills it)")
    return f"sqlite:///{working}"


def prepare_postgresql(url: str, filling: Filling, rebuild: bool, workdir: Path) -> str:
    """The PostgreSQL database of BENCH_DATABASE_URL (created when missing), reused while it holds what the
    benchmark needs, else its schema dropped and filled afresh; only a database named *bench*."""
    import sqlalchemy as sa

    from common.database import normalise_database_url

    target = sa.engine.make_url(normalise_database_url(url))
    if "bench" not in (target.database or ""):
        raise SystemExit(f"refusing to use PostgreSQL database {target.database!r}: a fill drops its schema, so "
                         "BENCH_DATABASE_URL must name a database whose name contains 'bench'")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}):
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
            print(f"created PostgreSQL database {target.database}")
    admin.dispose()
    status = "refill" if rebuild else filling.state(url)
    if status == "behind":
        print(f"PostgreSQL database {target.database} is not at the migrations' head: upgrading it")
        status = "ok" if upgrade_in_place(url, workdir) else "refill"
    engine = sa.create_engine(target)
    if status == "refill":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        print(f"filling PostgreSQL database {target.database} ({'--rebuild' if rebuild else 'empty or different'}) "
              "...", flush=True)
        seconds = filling.fill(url)
        print(f"fill took {seconds:.1f} s (including VACUUM ANALYZE)")
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version").scalar()
    engine.dispose()
    print(f"database: PostgreSQL {version}, {target.render_as_string(hide_password=True)} "
          f"(reused while its contents match; `--rebuild` refills it)")
    return url
