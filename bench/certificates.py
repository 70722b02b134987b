"""Certificates end to end: a 500-person cohort through the whole issuing path, and the public verification
URL under gunicorn and wrk, each as a ratio to a baseline measured side by side in the same run.

Run with `make bench` (all benchmarks) or `python -m bench certificates [--long] [--only issue|http]`.

1. Whole path. A fresh SQLite database (schema from the migrations) holds one track of 4 modules and two
   cohorts of eligible trainees, 500 and 250 (every session attended, every module passed), filled through
   the project's models in bulk. `issue_for_cohort(None, cohort)` is timed for the whole first cohort: roster,
   eligibility, serial, Ed25519 token, PDF, QR code, PAdES signature, audit entry and one commit per
   certificate, as the background job does it. Every 50 certificates the clock is paused: a bare reportlab
   page carrying the same strings and a QR code of the same kind of URL (bench_pdf.bare_page; its QR code is
   segno's default, choosing the mask by scoring all eight, where the app fixes the mask) is timed for
   0.6 s, then render_certificate alone for 0.3 s (for the breakdown). Each segment's rate is divided by the
   bare rate measured on either side of it, so the machine's drift cancels out. The second cohort is issued
   the same way with the PAdES signature replaced by the identity (the unsigned whole path). Targets:
   signed >= 0.4 of the bare page, unsigned >= 0.8, 500 signed certificates in under a minute.
2. HTTP. gunicorn (2 sync workers, `app:create_app()`) serves that same database on a free loopback port;
   wrk (1 thread, 32 connections, --latency) loads GET /healthz, GET /v/<token> of a real certificate
   with `Accept: application/json`, and the same URL with the Accept (text/html first) and Accept-Language
   a phone's browser sends (the page people see), in turn (healthz, JSON, page, healthz, JSON, page). Targets: the JSON and the
   page each at >= 0.45 of healthz's requests/s, p99 < 50 ms, no errors. 10 s a wrk run; `--long` makes it
   30 s (the bounded load run: 32 connections, 30 s, zero errors and its p99).

Figures, not a test: PASS/FAIL lines are information and the exit code is 0 either way. Without wrk the
HTTP part is skipped with a line saying so (`make bench` installs wrk when run as root).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):  # `python bench/certificates.py`: this file must not shadow the app's package
    _root = str(Path(__file__).resolve().parent.parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    sys.path.insert(0, _root)

import sqlalchemy as sa  # noqa: E402

from bench import servers  # noqa: E402
from bench.common import BENCH_CONFIG, PROJECT_ROOT  # noqa: E402
from bench.servers import http_get  # noqa: E402

COHORT_SIZE = 500
UNSIGNED_SIZE = 250  # enough segments for a median, and the whole run stays near two minutes
SEGMENT = 50  # certificates between two bare-page measurements
TARGET_SIGNED = 0.4
TARGET_UNSIGNED = 0.8
TARGET_COHORT_SECONDS = 60.0
TARGET_VERIFY_RATIO = 0.45
# What a phone's browser sends: its Accept, and the languages of a phone set to French with Arabic beside.
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PHONE_LANGUAGES = "fr-FR,fr;q=0.9,ar-MA;q=0.8,ar;q=0.7,en;q=0.6"
PAGE_HEADERS = {"Accept": HTML_ACCEPT, "Accept-Language": PHONE_LANGUAGES}
PAGE_WRK_HEADERS = [f"{name}: {value}" for name, value in PAGE_HEADERS.items()]  # as wrk -H takes them
TARGET_P99_MS = 50.0
CONNECTIONS = 32
BASE_URL = BENCH_CONFIG["BASE_URL"]
MOROCCO_OFFSET = timezone(timedelta(hours=1))

# The certificate bench_pdf measures: the same track, modules and hours.
TRACK = ("IA-DATA-01", "Science des données et apprentissage automatique", "علم البيانات والتعلم الآلي",
         "Data science and machine learning")
MODULES = [
    ("IA-DATA-M1", "Python pour la science des données", "بايثون لعلم البيانات", "Python for data science", "40"),
    ("IA-DATA-M2", "Statistiques appliquées", "الإحصاء التطبيقي", "Applied statistics", "30"),
    ("IA-DATA-M3", "Apprentissage automatique", "التعلم الآلي", "Machine learning", "50"),
    ("IA-DATA-M4", "Éthique de l'IA", "أخلاقيات الذكاء الاصطناعي", "AI ethics", "12.5"),
]
SESSIONS_PER_COHORT = 12
CATEGORIES = ("engineer", "researcher", "official")
# A fourth name part on top of bench_pdf's 192 combinations: every holder of both cohorts is distinct, so no
# certificate is served from the Arabic shaping cache.
_SECOND = [("", ""), ("Hajar ", "هاجر "), ("Karim ", "كريم "), ("Soukaina ", "سكينة "), ("Driss ", "ادريس "),
           ("Leila ", "ليلى ")]


def holder(i: int) -> tuple[str, str, str | None]:
    from bench.bench_pdf import _FIRST, _LAST, _MIDDLE

    (f, f_ar, f_t), (l, l_ar, l_t) = _FIRST[i % len(_FIRST)], _LAST[(i // len(_FIRST)) % len(_LAST)]
    n = len(_FIRST) * len(_LAST)
    m, m_ar = _MIDDLE[(i // n) % len(_MIDDLE)]
    s, s_ar = _SECOND[(i // (n * len(_MIDDLE))) % len(_SECOND)]
    return f"{f} {s}{m}{l}", f"{f_ar} {s_ar}{m_ar}{l_ar}", f"{f_t} {l_t}" if f_t and l_t else None


# --- the database -------------------------------------------------------------------------------------

def _insert(model, rows: list[dict], chunk: int = 2000) -> None:
    from common.extensions import db

    for i in range(0, len(rows), chunk):
        db.session.execute(sa.insert(model), rows[i:i + chunk])


def fill(cohorts: dict[str, int]) -> None:
    """One track of 4 modules; each cohort's trainees attended every session and passed every module."""
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
        track_modules,
    )

    _insert(Module, [{"code": code, "title_fr": fr, "title_ar": ar, "title_en": en, "hours": Decimal(hours)}
                     for code, fr, ar, en, hours in MODULES])
    module_ids = [db.session.scalar(sa.select(Module.id).where(Module.code == m[0])) for m in MODULES]
    _insert(Track, [{"code": TRACK[0], "title_fr": TRACK[1], "title_ar": TRACK[2], "title_en": TRACK[3],
                     "min_attendance": Decimal("0.8"), "validity_months": 36}])
    track_id = db.session.scalar(sa.select(Track.id).where(Track.code == TRACK[0]))
    db.session.execute(track_modules.insert(), [{"track_id": track_id, "module_id": m} for m in module_ids])
    first = 0
    for k, (code, size) in enumerate(cohorts.items()):
        starts_on = date(2026, 9, 7) + timedelta(days=k)
        _insert(Cohort, [{"code": code, "track_id": track_id, "sector": "administration",
                          "region": "rabat-sale-kenitra", "language": "fr", "starts_on": starts_on,
                          "ends_on": starts_on + timedelta(days=60)}])
        cohort_id = db.session.scalar(sa.select(Cohort.id).where(Cohort.code == code))
        people = []
        for i in range(first, first + size):
            name, name_ar, name_tfng = holder(i)
            people.append({"name": name, "name_ar": name_ar, "name_tfng": name_tfng,
                           "email": f"t{i:05d}@bench.kafaa.ma", "category": CATEGORIES[i % len(CATEGORIES)],
                           "sector": "administration", "region": "rabat-sale-kenitra", "gender": "fm"[i % 2],
                           "employer": "Agence du Développement Digital"})
        first += size
        _insert(Trainee, people)
        ids = list(db.session.scalars(sa.select(Trainee.id).where(Trainee.email.in_([p["email"] for p in people]))
                                      .order_by(Trainee.id)))
        _insert(Enrollment, [{"cohort_id": cohort_id, "trainee_id": t} for t in ids])
        _insert(TrainingSession, [
            {"cohort_id": cohort_id, "module_id": module_ids[s * len(module_ids) // SESSIONS_PER_COHORT],
             "starts_at": datetime(2026, 9, 7 + s, 9, tzinfo=MOROCCO_OFFSET), "hours": Decimal("3")}
            for s in range(SESSIONS_PER_COHORT)])
        session_ids = list(db.session.scalars(sa.select(TrainingSession.id)
                                              .where(TrainingSession.cohort_id == cohort_id)))
        _insert(Attendance, [{"session_id": s, "trainee_id": t, "status": "late" if (s + t) % 7 == 0 else "present"}
                             for s in session_ids for t in ids])
        _insert(ModuleResult, [{"cohort_id": cohort_id, "trainee_id": t, "module_id": m, "passed": True,
                                "score": Decimal(60 + (t + m) % 40)} for t in ids for m in module_ids])
    db.session.commit()


# --- 1. the whole issuing path ------------------------------------------------------------------------

def bare_contents(app, n: int, offset: int) -> list:
    """What the bare page draws: each holder's strings and a verify URL with a real token, as issued."""
    from certificates import keys
    from certificates.operations import certificate_content, certified_record
    from certificates.rules import expiry, format_serial
    from certificates.signing import make_token, verification_code, verify_url
    from common.extensions import db
    from skills.models import Track

    track = db.session.scalar(sa.select(Track).where(Track.code == TRACK[0]))
    issued_on = date.today()
    out = []
    for i in range(offset, offset + n):
        name, name_ar, name_tfng = holder(i)
        serial = format_serial(issued_on.year, 900000 + i)
        token, claims = make_token(keys.keystore(), serial=serial, holder=name, holder_ar=name_ar,
                                   holder_tfng=name_tfng, track=track.code, issued_on=issued_on,
                                   expires_on=expiry(issued_on, track.validity_months))
        fake = SimpleNamespace(serial=serial, holder=claims.holder, holder_ar=claims.holder_ar,
                               holder_tfng=claims.holder_tfng, track=track, issued_on=claims.issued_on,
                               expires_on=claims.expires_on, verification_code=verification_code(token),
                               certified=certified_record(track))
        out.append(certificate_content(fake, verify_url(app.config["BASE_URL"], token)))
    return out


def rate(draw: Callable[[object], bytes], contents: list, seconds: float, start_at: int = 0) -> tuple[float, int]:
    """Pages a second, drawn for about `seconds`, and how many were drawn."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        draw(contents[(start_at + done) % len(contents)])
        done += 1
    return done / elapsed, done


@dataclass
class Interleaved:
    """issue_for_cohort's progress callback: every `every` certificates it stops the clock, times the bare
    page for `bare_seconds` (and render_certificate alone for half as long), and starts the clock again.
    Each segment's rate is compared with the bare rates measured just before and just after it."""

    contents: list
    every: int
    bare_seconds: float
    segments: list[tuple[int, float]] = field(default_factory=list)  # (certificates, seconds)
    bare: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)  # render_certificate alone, for the breakdown
    paused: float = 0.0
    _last: int = 0
    _segment_start: float = 0.0
    _cursor: int = 0  # render_certificate draws names it has not shaped before, as the whole path does

    def _measure(self, start_at: int) -> None:
        from bench.bench_pdf import bare_page
        from certificates.pdf import render_certificate

        self.bare.append(rate(bare_page, self.contents, self.bare_seconds, start_at)[0])
        per_second, done = rate(render_certificate, self.contents, self.bare_seconds / 2, self._cursor)
        self.render.append(per_second)
        self._cursor += done

    def start(self) -> None:
        self._measure(0)
        self._segment_start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if done % self.every and done != total:
            return
        now = time.perf_counter()
        self.segments.append((done - self._last, now - self._segment_start))
        self._last = done
        self._measure(done)
        after = time.perf_counter()
        self.paused += after - now
        self._segment_start = after

    def ratios(self) -> list[float]:
        return [(n / s) / ((self.bare[i] + self.bare[i + 1]) / 2) for i, (n, s) in enumerate(self.segments)]


@dataclass
class IssueRun:
    label: str
    summary: dict[str, int]
    seconds: float  # issuing only, bare-page pauses taken out
    probe: Interleaved

    @property
    def rate(self) -> float:
        return self.summary["issued"] / self.seconds

    @property
    def ratio(self) -> float:
        return statistics.median(self.probe.ratios())


class _Identity:
    @staticmethod
    def sign(pdf: bytes) -> bytes:
        return pdf


@contextmanager
def unsigned() -> Iterator[None]:
    """render_pdf without the PAdES signature: keys.pdf_signer() hands out a signer that returns its input."""
    from certificates import keys

    original = keys.pdf_signer
    keys.pdf_signer = lambda: _Identity()
    try:
        yield
    finally:
        keys.pdf_signer = original


def issue(label: str, code: str, contents: list, every: int, bare_seconds: float) -> IssueRun:
    from certificates.bulk import issue_for_cohort
    from common.extensions import db
    from skills.models import Cohort

    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.code == code))
    probe = Interleaved(contents, every, bare_seconds)
    probe.start()
    start = time.perf_counter()
    summary = issue_for_cohort(None, cohort, probe)
    seconds = time.perf_counter() - start - probe.paused
    db.session.remove()
    return IssueRun(label, summary, seconds, probe)


def verdict(ok: bool, text: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}: {text} (information, not a test)")


def report_issue(runs: Sequence[IssueRun], bare_all: list[float]) -> None:
    print(f"\n{'':<28}{'certs':>6}{'seconds':>9}{'certs/s':>9}{'x bare':>8}{'range':>12}")
    print(f"{'bare reportlab page':<28}{'':>6}{'':>9}{statistics.median(bare_all):>9.1f}{'1':>8}"
          f"{min(bare_all):>6.0f}-{max(bare_all):<5.0f}")
    for run in runs:
        ratios = run.probe.ratios()
        print(f"{run.label:<28}{run.summary['issued']:>6}{run.seconds:>9.1f}{run.rate:>9.1f}{run.ratio:>8.2f}"
              f"{min(ratios):>7.2f}-{max(ratios):<4.2f}")
    print("(x bare: median over segments of 50 of the segment's rate / the bare rate timed on either side of it)")
    # A breakdown in the same units: each figure is the median bare page's time divided by that step's own
    # drift-free ratio to the bare page, so cohorts issued a minute apart still add up.
    bare_ms = 1000 / statistics.median(bare_all)
    render_ratio = statistics.median(r / b for run in runs for r, b in zip(run.probe.render, run.probe.bare))
    render_ms = bare_ms / render_ratio
    parts = [f"bare page {bare_ms:.0f}", f"render_certificate alone {render_ms:.0f}"]
    by_label = {run.label: bare_ms / run.ratio for run in runs}
    unsigned_ms, signed_ms = by_label.get("whole path, unsigned"), by_label.get("whole path, signed")
    if unsigned_ms:
        parts.append(f"whole path unsigned {unsigned_ms:.0f} (+{unsigned_ms - render_ms:.0f} database, eligibility, "
                     "token, audit, commit)")
    if signed_ms:
        parts.append(f"signed {signed_ms:.0f}"
                     + (f" (+{signed_ms - unsigned_ms:.0f} PAdES signature)" if unsigned_ms else ""))
    print("ms per certificate, in bare-page units (drift-free): " + "; ".join(parts))
    for run in runs:
        if run.summary["issued"] != sum(n for n, _ in run.probe.segments) or run.summary["not_eligible"]:
            print(f"WARNING: {run.label}: {run.summary}")


def whole_path(app, args) -> str | None:
    """Issue both cohorts and print the figures; return the token of one valid certificate (None if none was
    issued) for the HTTP part."""
    from bench.bench_pdf import bare_page
    from certificates import keys
    from certificates.models import Certificate
    from certificates.pdf import render_certificate
    from common.extensions import db

    with app.app_context():
        contents = bare_contents(app, 600, offset=10_000)
        # Warm up what a long-running worker has loaded already: fonts, the issuer key, the PDF signer.
        keys.keystore()
        signer = keys.pdf_signer()
        for content in contents[:3]:
            bare_page(content)
            signer.sign(render_certificate(content))
        runs = []
        if args.only != "http":
            print(f"\nissuing {args.size} certificates through issue_for_cohort (signed), then {args.unsigned_size} "
                  f"with the PAdES signature left out; the bare page is timed for {args.bare_seconds:g} s every "
                  f"{SEGMENT} certificates", flush=True)
            runs.append(issue("whole path, signed", "BENCH-SIGNED", contents, SEGMENT, args.bare_seconds))
            print(f"signed: {runs[-1].summary['issued']} certificates in {runs[-1].seconds:.1f} s", flush=True)
            if args.unsigned_size:
                with unsigned():
                    runs.append(issue("whole path, unsigned", "BENCH-UNSIGNED", contents, SEGMENT, args.bare_seconds))
            bare_all = [b for run in runs for b in run.probe.bare]
            report_issue(runs, bare_all)
            signed = runs[0]
            verdict(signed.seconds < TARGET_COHORT_SECONDS,
                    f"a {signed.summary['issued']}-person cohort issued and signed in {signed.seconds:.1f} s "
                    f"(target < {TARGET_COHORT_SECONDS:.0f} s)")
            verdict(signed.ratio >= TARGET_SIGNED, f"whole path, signed: {signed.ratio:.2f} of the bare page "
                    f"(target >= {TARGET_SIGNED})")
            if len(runs) > 1:
                verdict(runs[1].ratio >= TARGET_UNSIGNED, f"whole path, unsigned: {runs[1].ratio:.2f} of the bare "
                        f"page (target >= {TARGET_UNSIGNED})")
        else:  # the HTTP part alone: certificates to verify, issued quickly (verification never reads the PDF)
            from certificates.bulk import issue_for_cohort
            from skills.models import Cohort

            with unsigned():
                cohort = db.session.scalar(sa.select(Cohort).where(Cohort.code == "BENCH-SIGNED"))
                summary = issue_for_cohort(None, cohort)
            print(f"--only http: {summary['issued']} certificates issued without the PAdES signature")
        token = db.session.scalar(sa.select(Certificate.token)
                                  .order_by(Certificate.id).offset(args.size // 2).limit(1))
        db.session.remove()
        db.engine.dispose()
    return token


# --- one verification in process: what it costs, statement by statement ---------------------------------

def verify_in_process(app, token: str, profile: int = 0) -> None:
    """Through the test client: the SQL statements one verification issues, its median time against
    /healthz's (no HTTP server in between), and with `profile` a cProfile of that many requests."""
    from common.extensions import db

    client = app.test_client()
    path, headers = f"/v/{token}", {"Accept": "application/json"}
    statements: list[str] = []
    capturing = False

    def trace(statement: str) -> None:  # everything SQLite runs, pool pings and BEGIN/COMMIT included
        if capturing:
            statements.append(re.sub(r"\s+", " ", statement).strip())

    with app.app_context():
        engine = db.engine
        sa.event.listen(engine, "connect", lambda dbapi_connection, _record: dbapi_connection.set_trace_callback(trace))
        engine.dispose()  # new connections, each with the trace callback
    for _ in range(20):  # warm: connection pool, compiled-statement cache
        client.get(path, headers=headers)
        client.get("/healthz")
    capturing = True
    response = client.get(path, headers=headers)
    capturing = False
    assert response.status_code == 200 and response.json["status"] == "valid", response.get_data(as_text=True)[:300]
    writes = [st for st in statements if re.match(r"(INSERT|UPDATE|DELETE)\b", st, re.IGNORECASE)]
    page = client.get(path, headers=PAGE_HEADERS)
    assert page.status_code == 200 and "Set-Cookie" not in page.headers and b"verdict-valid" in page.data
    timings: dict[str, list[float]] = {"healthz": [], "verify": [], "page": []}
    for _ in range(100):
        for name, (url, hdrs) in {"healthz": ("/healthz", None), "verify": (path, headers),
                                  "page": (path, PAGE_HEADERS)}.items():
            start = time.perf_counter()
            status = client.get(url, headers=hdrs).status_code
            timings[name].append((time.perf_counter() - start) * 1000)
            assert status == 200, f"GET {url[:40]}: {status}"
    healthz_ms, verify_ms, page_ms = (statistics.median(timings[k]) for k in ("healthz", "verify", "page"))
    print(f"\nin process (test client, no HTTP server): GET /v/<token> takes {verify_ms:.2f} ms as JSON, "
          f"{page_ms:.2f} ms as the HTML page (no cookie set), /healthz {healthz_ms:.2f} ms (JSON x{verify_ms / healthz_ms:.1f}, "
          f"page x{page_ms / healthz_ms:.1f}); SQLite runs {len(statements)} statements for one "
          f"verification, {len(writes)} of them writes:")
    for n, statement in enumerate(statements, 1):
        short = re.sub(r"^SELECT (?!1$).*? FROM ", "SELECT … FROM ", statement, count=1)
        print(f"  {n}. {short if len(short) <= 130 else short[:127] + '...'}")
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(profile):
            client.get(path, headers=headers)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"/(certificates|common|skills|app)\b|commit|_emit_lazyload|"
                                                   r"load_scalar_attributes|verify' of|execute' of", 30)
        stats.sort_stats("tottime").print_stats(15)
        print(f"\ncProfile of {profile} verifications through the test client:")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())
              .replace(str(PROJECT_ROOT) + "/", "").replace(sys.prefix + "/lib/", ""))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- 2. HTTP: gunicorn and wrk ------------------------------------------------------------------------

@dataclass
class WrkRun:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int  # timeouts (no answer within wrk's 2 s) included
    timeouts: int
    output: str

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(label: str, output: str) -> WrkRun:
    def find(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            if default is None:
                raise ValueError(f"wrk output without {pattern!r}:\n{output}")
            return default
        return match.group(1)

    socket_line = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkRun(
        label=label,
        rps=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")),
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        non_2xx=int(find(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=sum(int(g) for g in socket_line.groups()) if socket_line else 0,
        timeouts=int(socket_line.group(4)) if socket_line else 0,
        output=output,
    )


def wrk(label: str, url: str, seconds: float, headers: Sequence[str] = ()) -> WrkRun:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(label, done.stdout)


@contextmanager
def gunicorn(database_url: str, keys_dir: Path, workdir: Path) -> Iterator[str]:
    """2 sync workers on the benchmark's database, rate limits lifted; prints the end of the log when it
    shows an error."""
    env = {"DATABASE_URL": database_url, "KEYS_DIR": str(keys_dir), "BASE_URL": BASE_URL,
           "SECRET_KEY": "bench-secret", "EXPORTS_DIR": str(workdir / "exports"), "RATELIMIT_ENABLED": "0"}
    try:
        with servers.gunicorn(env, workdir) as base:
            yield base
    finally:
        log = workdir / "gunicorn.log"
        if servers.log_errors(log):
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            print("gunicorn's log ends with:", *tail, sep="\n    ")


def http(database_url: str, keys_dir: Path, workdir: Path, token: str, args) -> None:
    if shutil.which("wrk") is None:
        print("\nSKIP: HTTP part: wrk is not installed. `make bench` installs it when run as root; otherwise "
              "`apt-get install wrk` (Debian) and run `python -m bench certificates` again.")
        return
    seconds = args.seconds or (30.0 if args.long else 10.0)
    pairs = args.pairs or (1 if args.long else 2)
    json_header = {"Accept": "application/json"}
    print(f"\nHTTP: gunicorn, 2 sync workers, on loopback; wrk 1 thread x {CONNECTIONS} connections, {seconds:g} s a "
          f"run, {pairs} round(s) of runs (healthz, JSON, page), interleaved", flush=True)
    with gunicorn(database_url, keys_dir, workdir) as base:
        verify_path = f"/v/{token}"
        status, body = http_get(base + verify_path, json_header)
        answer = json.loads(body) if status == 200 else {}
        if status != 200 or answer.get("status") != "valid":
            raise RuntimeError(f"GET /v/<token> answered {status} {body[:300]!r}, not 200 valid: nothing to measure")
        html_status, html = http_get(base + verify_path)
        print(f"checked: GET /v/<{len(token)}-digit token> answers 200 {answer['status']!r} for {answer['serial']} "
              f"(JSON, {len(body)} bytes; the HTML page: {html_status}, {len(html)} bytes)")
        headers, page_headers = ["Accept: application/json"], PAGE_WRK_HEADERS
        wrk("warm-up", base + "/healthz", 1)
        wrk("warm-up", base + verify_path, 1, headers)
        wrk("warm-up", base + verify_path, 1, page_headers)
        runs: list[tuple[WrkRun, WrkRun, WrkRun]] = []
        for _ in range(pairs):
            health = wrk("GET /healthz", base + "/healthz", seconds)
            verify = wrk("GET /v/<token> (JSON)", base + verify_path, seconds, headers)
            page = wrk("GET /v/<token> (page)", base + verify_path, seconds, page_headers)
            runs.append((health, verify, page))
        status, body = http_get(base + verify_path, json_header)
        still_valid = status == 200 and json.loads(body).get("status") == "valid"
    ceilings = machine_ceiling(workdir, seconds, pairs) if args.ceiling else []
    print(f"\n{'run':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}")
    for triple in runs:
        for run in triple:
            print(f"{run.label:<26}{run.rps:>9.0f}{run.p50_ms:>9.1f}{run.p99_ms:>9.1f}{run.requests:>10}"
                  f"{run.errors:>8}")
    health_errors = sum(h.errors for h, _, _ in runs)
    median_ratio: dict[str, float] = {}
    for index, name in ((1, "verification JSON"), (2, "verification page (HTML)")):
        measured = [triple[index] for triple in runs]
        ratios = [run.rps / triple[0].rps for run, triple in zip(measured, runs)]
        ratio = statistics.median(ratios)
        median_ratio[name] = ratio
        p99 = statistics.median(run.p99_ms for run in measured)
        errors = sum(run.errors for run in measured)
        print(f"{name} / healthz requests/s: {', '.join(f'{r:.2f}' for r in ratios)} per round; median "
              f"{ratio:.2f}, best {max(ratios):.2f}")
        verdict(ratio >= TARGET_VERIFY_RATIO, f"{name}: {ratio:.2f} of /healthz's requests/s "
                f"(target >= {TARGET_VERIFY_RATIO})")
        verdict(p99 < TARGET_P99_MS, f"{name}: p99 {p99:.1f} ms at {CONNECTIONS} connections "
                f"(target < {TARGET_P99_MS:.0f} ms; worst run {max(run.p99_ms for run in measured):.1f} ms)")
        kinds = (f"{sum(run.non_2xx for run in measured)} non-2xx, {sum(run.socket_errors - run.timeouts for run in measured)} "
                 f"socket errors, {sum(run.timeouts for run in measured)} unanswered within wrk's 2 s")
        verdict(errors == 0, f"{name}: {errors} errors in {sum(run.requests for run in measured):,} requests ({kinds})")
    if ceilings:
        ceiling = statistics.median(ceilings)
        page_ratio = median_ratio["verification page (HTML)"]
        print(f"this machine's ceiling (bench/ceiling.py: a bare Flask app, a one-row SQLite lookup and a compiled "
              f"Jinja page of the same size, against its own /healthz): {', '.join(f'{r:.2f}' for r in ceilings)} "
              f"per round; median {ceiling:.2f} (0.53 where the target was set). The page reaches {page_ratio / ceiling:.2f} "
              f"of it. (Information: the target is the ratio above.)")
    verdict(health_errors == 0 and still_valid, f"{health_errors} errors on /healthz; the certificate "
            f"{'still' if still_valid else 'NO LONGER'} verifies valid")
    for run in (r for triple in runs for r in triple if r.errors):  # without the first line and its 380-digit URL
        print(f"--- wrk output of {run.label} ---\n" + "\n".join(run.output.strip().splitlines()[1:]))


def machine_ceiling(workdir: Path, seconds: float, pairs: int) -> list[float]:
    """The ratio of bench/ceiling.py's page to its own /healthz, per round, on the same gunicorn and wrk."""
    from bench import ceiling

    database = workdir / "ceiling.db"
    ceiling.make_database(database)
    serial = f"KF-2026-{ceiling.ROWS // 2:06d}"
    with servers.gunicorn({"CEILING_DATABASE": str(database)}, workdir, name="ceiling",
                          application="bench.ceiling:app") as base:
        status, body = http_get(f"{base}/v/{serial}")
        if status != 200 or serial.encode() not in body:
            raise RuntimeError(f"the ceiling's page answered {status} {body[:200]!r}")
        wrk("warm-up", base + "/healthz", 1)
        wrk("warm-up", f"{base}/v/{serial}", 1, PAGE_WRK_HEADERS)
        ratios = []
        for _ in range(pairs):
            health = wrk("ceiling: GET /healthz", base + "/healthz", seconds)
            page = wrk("ceiling: GET /v/<serial>", f"{base}/v/{serial}", seconds, PAGE_WRK_HEADERS)
            if health.errors or page.errors:
                raise RuntimeError(f"the ceiling's runs had errors: {health.errors}, {page.errors}")
            ratios.append(page.rps / health.rps)
    return ratios


# --- entry point --------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench certificates", description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="30 s wrk runs, one pair (the bounded load run)")
    parser.add_argument("--seconds", type=float, help="seconds a wrk run (default 10, 30 with --long)")
    parser.add_argument("--pairs", type=int, help="rounds of wrk runs (healthz, JSON, page); default 2, 1 with --long")
    parser.add_argument("--only", choices=("issue", "http"), help="run one part only (http issues its "
                        "certificates without the PAdES signature, quickly, and times nothing of it)")
    parser.add_argument("--size", type=int, default=COHORT_SIZE, help=f"signed cohort (default {COHORT_SIZE})")
    parser.add_argument("--unsigned-size", type=int, default=UNSIGNED_SIZE,
                        help=f"cohort issued without the PAdES signature (default {UNSIGNED_SIZE}; 0 skips it)")
    parser.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                        help="skip measuring this machine's ceiling for the page's ratio (bench/ceiling.py)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print a cProfile of N verifications through the test client (e.g. 200)")
    parser.add_argument("--bare-seconds", type=float, default=0.6,
                        help="bare-page timing between segments of 50 certificates (default 0.6 s; "
                             "render_certificate alone is timed for half as long)")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from app import create_app
    from common.extensions import db

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kafaa-bench-certificates-") as tmp:
        workdir = Path(tmp)
        keys_dir = workdir / "keys"
        database_url = f"sqlite:///{workdir / 'certificates.db'}"
        app = create_app({**BENCH_CONFIG, "DATABASE_URL": database_url, "KEYS_DIR": str(keys_dir),
                          "EXPORTS_DIR": str(workdir / "exports"), "RATELIMIT_ENABLED": False})
        with app.app_context():
            upgrade()
            fill({"BENCH-SIGNED": args.size, "BENCH-UNSIGNED": args.unsigned_size})
            db.session.remove()
        print(f"database: SQLite (file on disk, default settings, as `make run` has it), migrated, "
              f"{args.size} + {args.unsigned_size} eligible trainees on one track of {len(MODULES)} modules "
              f"({time.perf_counter() - started:.1f} s)")
        token = whole_path(app, args)
        if args.only != "issue":
            if token is None:
                print("\nSKIP: HTTP part: no certificate was issued, so there is nothing to verify")
            else:
                verify_in_process(app, token, args.profile)
                http(database_url, keys_dir, workdir, token, args)
    print(f"\ncertificates benchmark: {time.perf_counter() - started:.1f} s in all")


if __name__ == "__main__":
    main()
