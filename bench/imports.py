"""Spreadsheet imports and exports at 10,000 rows.

Run with `make bench` (all benchmarks) or `python -m bench imports [--rows N]`.

A 10,000-row trainee file is generated as a spreadsheet in a French locale saves it (UTF-8 with a BOM,
semicolons, French headers and labels, Arabic and some Tifinagh names) and sent through the Flask test client
to a fresh database built by the migrations (a temporary SQLite file; with BENCH_DATABASE_URL=postgresql://
.../bench_x, that PostgreSQL database, whose name must contain "bench" since its schema is dropped):

  1. POST /api/v1/imports/trainees dry_run=true (10,000 new trainees)
  2. the same with dry_run=false and a cohort (10,000 inserts and 10,000 enrollments)
  3. the file again with every employer changed, dry_run=false (10,000 updates)
  4. the same rows as XLSX, dry_run=true; then 10,000 new rows as XLSX, dry_run=false with a cohort
  5. the web page with another 10,000 new trainees: upload (a job with a progress bar: its progress is
     polled as the page does), then "Import now" (another job)
  6. GET /api/v1/exports/trainees.csv and .xlsx (30,000 rows)

openpyxl writes inline strings, which openpyxl reads back about 1.5 times slower than the shared strings
Excel and LibreOffice write: the XLSX figures here are the slow case.

Figures, not a test: the < 10 s target of the commits is printed as PASS/FAIL; the exit code is 0 either way.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # `python bench/imports.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.common import BENCH_CONFIG, sign_in  # noqa: E402

PASSWORD = "bench-password-2026"
TARGET_S = 10.0
FRENCH_HEADER = ["nom", "courriel", "catégorie", "secteur", "région", "nom_ar", "nom_tfng", "genre", "employeur"]
FIRST = [("Fatima Zahra", "فاطمة الزهراء"), ("Youssef", "يوسف"), ("Salma", "سلمى"), ("Omar", "عمر"),
         ("Khadija", "خديجة"), ("Mehdi", "مهدي"), ("Imane", "إيمان"), ("Hamza", "حمزة"), ("Nadia", "نادية"),
         ("Rachid", "رشيد")]
LAST = [("El Amrani", "العمراني"), ("Bennani", "بناني"), ("Tazi", "التازي"), ("Alaoui", "العلوي"),
        ("Idrissi", "الإدريسي"), ("Berrada", "برادة"), ("Chraibi", "الشرايبي"), ("Fassi", "الفاسي")]
CATEGORIES = ["Ingénieur", "chercheuse", "Fonctionnaire", "engineer"]
SECTORS = ["Santé", "Éducation", "justice", "Agriculture", "administration", "Autre"]
REGIONS = ["Rabat-Salé-Kénitra", "Casablanca-Settat", "fes-meknes", "Souss-Massa", "Oriental", "Marrakech-Safi"]
GENDERS = ["F", "H", "femme", "homme", ""]


def trainee_rows(count: int, prefix: str, employer: str = "Ministère") -> list[list[str]]:
    rng = random.Random(prefix)
    rows = []
    for i in range(count):
        (first, first_ar), (last, last_ar) = rng.choice(FIRST), rng.choice(LAST)
        rows.append([f"{first} {last}", f"{prefix}{i}@example.ma", rng.choice(CATEGORIES), rng.choice(SECTORS),
                     rng.choice(REGIONS), f"{first_ar} {last_ar}", "ⴰⵎⴰⵣⵉⵖ" if i % 7 == 0 else "",
                     rng.choice(GENDERS), f"{employer} {i % 40}"])
    return rows


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(FRENCH_HEADER)
    writer.writerows(rows)
    writer.writerows([[""] * len(FRENCH_HEADER)] * 3)  # the blank rows a spreadsheet leaves at the end
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("stagiaires")
    sheet.append(FRENCH_HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def database(workdir: Path) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{workdir / 'imports.db'}"
    if "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("BENCH_DATABASE_URL must name a database whose name contains 'bench' (its schema is dropped)")
    from common.database import normalise_database_url

    target = sa.engine.make_url(normalise_database_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(name)s",
                                    {"name": target.database}).scalar():
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
            print(f"created PostgreSQL database {target.database}")
    admin.dispose()
    engine = sa.create_engine(target)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def report(label: str, rows: int, seconds: float, target: float | None = None) -> None:
    verdict = "" if target is None else (f"  target < {target:.0f} s: " + ("PASS" if seconds < target else "FAIL"))
    print(f"  {label:<52} {rows:>7,} rows {seconds:7.2f} s {rows / seconds:9,.0f} rows/s{verdict}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench imports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows per file (default 10,000)")
    args = parser.parse_args(argv)
    n = args.rows

    from flask_migrate import upgrade

    from accounts import operations as accounts
    from app import create_app
    from common.extensions import db
    from skills import operations
    from skills.models import Enrollment, Trainee

    with tempfile.TemporaryDirectory(prefix="kafaa-bench-imports-") as tmp:
        workdir = Path(tmp)
        url = database(workdir)
        app = create_app({**BENCH_CONFIG, "DATABASE_URL": url, "KEYS_DIR": str(workdir / "keys"),
                          "EXPORTS_DIR": str(workdir / "exports"), "JOBS_SYNCHRONOUS": False})
        print(f"database: {url.split('://')[0]}, {n:,} rows per file")
        with app.app_context():
            upgrade()
            admin = accounts.create_user(None, "admin@bench.ma", "admin", password=PASSWORD)
            for code in ("M1", "M2"):
                operations.create_module(admin, {"code": code, "hours": 6,
                                                 "title": {"fr": code, "ar": code, "en": code}})
            operations.create_track(admin, {"code": "T1", "modules": ["M1", "M2"],
                                            "title": {"fr": "Parcours", "ar": "مسار", "en": "Track"}})
            operations.create_cohort(admin, {"code": "BENCH", "track": "T1", "sector": "health",
                                             "region": "rabat-sale-kenitra", "language": "fr",
                                             "starts_on": date(2026, 10, 1), "ends_on": date(2026, 12, 20)})
            db.session.commit()

            client = app.test_client()
            token = client.post("/api/v1/tokens", json={"email": "admin@bench.ma", "password": PASSWORD}).json["token"]
            headers = {"Authorization": f"Bearer {token}", "Accept-Language": "fr"}

            def post(content: bytes, filename: str, **fields) -> tuple[dict, float]:
                start = time.perf_counter()
                response = client.post("/api/v1/imports/trainees", headers=headers, content_type="multipart/form-data",
                                       data={"file": (io.BytesIO(content), filename), **fields})
                elapsed = time.perf_counter() - start
                assert response.status_code == 200, response.get_data(as_text=True)[:2000]
                assert not response.json["errors"], response.json["errors"][:5]
                return response.json, elapsed

            rows = trainee_rows(n, "api")
            content = csv_bytes(rows)
            print(f"file: {len(content) / 1e6:.1f} MB CSV (BOM, semicolons, French headers and labels)")
            print("API, through the test client:")
            body, seconds = post(content, "stagiaires.csv", dry_run="true")
            assert body["created"] == n
            report("1. dry run, all new", n, seconds)
            body, seconds = post(content, "stagiaires.csv", dry_run="false", cohort="BENCH")
            assert (body["created"], body["enrolled"]) == (n, n)
            report("2. commit: inserts + enrollments in a cohort", n, seconds, TARGET_S)
            changed = csv_bytes(trainee_rows(n, "api", employer="Office national"))
            body, seconds = post(changed, "stagiaires.csv", dry_run="false")
            assert body["updated"] == n
            report("3. commit: every row updates its trainee", n, seconds, TARGET_S)
            workbook = xlsx_bytes(rows)
            body, seconds = post(workbook, "stagiaires.xlsx", dry_run="true")
            assert body["updated"] == n
            report(f"4a. dry run of the same rows as XLSX ({len(workbook) / 1e6:.1f} MB)", n, seconds)
            body, seconds = post(xlsx_bytes(trainee_rows(n, "xlsx")), "nouveaux.xlsx", dry_run="false",
                                 cohort="BENCH")
            assert (body["created"], body["enrolled"]) == (n, n)
            report("4b. XLSX commit: inserts + enrollments in a cohort", n, seconds, TARGET_S)

            print("web page, as a job with a progress bar (polled every 0.25 s):")
            sign_in(client, "admin@bench.ma", PASSWORD)
            web = csv_bytes(trainee_rows(n, "web"))

            def run_job(response) -> tuple[float, list[int]]:
                assert response.status_code == 302, response.get_data(as_text=True)[:2000]
                job_id = int(response.headers["Location"].rsplit("=", 1)[1])
                seen = []
                while True:
                    state = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
                    if not seen or seen[-1] != state["percent"]:
                        seen.append(state["percent"])
                    if state["status"] in ("done", "failed"):
                        assert state["status"] == "done" and not state["summary"]["errors"], state
                        return state, seen
                    time.sleep(0.25)

            start = time.perf_counter()
            response = client.post("/imports/trainees", content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(web), "web.csv"), "cohort": ""})
            state, seen = run_job(response)
            report("5a. upload and check (job)", n, time.perf_counter() - start)
            print(f"      progress seen: {' → '.join(f'{p} %' for p in seen)}")
            start = time.perf_counter()
            response = client.post("/imports/trainees/commit", data={"token": state["summary"]["token"]})
            state, seen = run_job(response)
            report("5b. import now (job)", n, time.perf_counter() - start, TARGET_S)
            print(f"      progress seen: {' → '.join(f'{p} %' for p in seen)}")
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Trainee))
            assert total == 3 * n and db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 2 * n

            print("exports:")
            for fmt in ("csv", "xlsx"):
                start = time.perf_counter()
                response = client.get(f"/api/v1/exports/trainees.{fmt}", headers=headers)
                size = len(response.data)
                assert response.status_code == 200
                report(f"6. GET /api/v1/exports/trainees.{fmt} ({size / 1e6:.1f} MB)", total,
                       time.perf_counter() - start)
            threads = [t for t in threading.enumerate() if t.name.startswith("job-")]
            for thread in threads:
                thread.join(timeout=30)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
