"""Files holding personal data: readable by their owner only, deleted by `flask purge` at the end of their
retention period, and with the people they name."""
from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from common import clock
from common.extensions import db
from jobs import runner
from jobs.models import Job
from tests.test_imports import FRENCH_HEADER, _row, csv_file

LATER = datetime(2034, 6, 1, 12, 0, tzinfo=timezone.utc)
EN = {"Accept-Language": "en"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _purge(app, *args):
    result = app.test_cli_runner().invoke(args=["purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _bulk_zip(admin, programme) -> Job:
    job = runner.start("certificates.issue_cohort", {"cohort_id": programme.cohort.id,
                                                     "cohort": programme.cohort.code}, admin)
    db.session.expire_all()
    return db.session.get(Job, job.id)


def test_files_and_the_database_are_readable_by_their_owner_only(app, admin, certified, client, login):
    job = _bulk_zip(admin, certified(size=2, certified=2))
    archive = Path(job.result_path)
    assert archive.is_file() and mode(archive) == 0o600 and mode(archive.parent) == 0o700
    login(admin)
    client.post("/imports/trainees", data={"file": (io.BytesIO(csv_file([FRENCH_HEADER, _row("A", "a@example.ma")])),
                                                    "a.csv")}, content_type="multipart/form-data")
    uploads = list((Path(app.config["EXPORTS_DIR"]) / "uploads").iterdir())
    assert uploads and all(mode(p) == 0o600 for p in uploads) and mode(uploads[0].parent) == 0o700
    if db.engine.dialect.name == "sqlite":
        database = Path(db.engine.url.database)
        sides = [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()]
        assert len(sides) == 3 and all(mode(p) == 0o600 for p in sides), [(p, oct(mode(p))) for p in sides]


def test_an_old_database_file_is_closed_to_others_when_the_app_starts(new_app, tmp_path):
    database = tmp_path / "old.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    new_app({"DATABASE_URL": f"sqlite:///{database}"})
    assert mode(database) == 0o600


def test_purge_deletes_files_past_their_retention_period(app, admin, certified, client, login):
    job = _bulk_zip(admin, certified(size=2, certified=2))
    login(admin)
    client.post("/imports/trainees", data={"file": (io.BytesIO(csv_file([FRENCH_HEADER, _row("A", "a@example.ma")])),
                                                    "a.csv")}, content_type="multipart/form-data")
    exports = Path(app.config["EXPORTS_DIR"])
    archive, uploads = Path(job.result_path), sorted((exports / "uploads").iterdir())
    report = exports / "report-2026-Q4-job9" / "report.xlsx"  # as a quarterly report job leaves it
    report.parent.mkdir()
    report.write_bytes(b"figures")
    now = time.time()
    os.utime(archive, (now - 29 * 86400,) * 2)  # within RETENTION_JOB_FILES_DAYS (30)
    os.utime(report, (now - 31 * 86400,) * 2)
    for upload in uploads:
        os.utime(upload, (now - 25 * 3600,) * 2)  # past RETENTION_UPLOADS_HOURS (24)
    dry = _purge(app, "--dry-run")
    assert f"(ZIP, rapports, fichiers importés) à supprimer: {1 + len(uploads)}" in dry  # French by default
    _purge(app, "--yes")
    assert archive.exists() and not report.exists() and not report.parent.exists()
    assert not any(p.exists() for p in uploads)
    app.config["RETENTION_JOB_FILES_DAYS"] = 28
    _purge(app, "--yes")
    assert not archive.exists()
    db.session.expire_all()
    assert db.session.get(Job, job.id).result_path is None
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert "deleted at the end of its retention period" in client.get(f"/jobs/{job.id}", headers=EN).get_data(as_text=True)


def test_purging_people_deletes_every_zip_holding_their_certificates(app, admin, certified, client, login,
                                                                     monkeypatch):
    app.config["RETENTION_JOB_FILES_DAYS"] = 100_000  # only the people's purge may take these files
    expiring = certified(size=2, certified=2, validity_months=24)
    lifelong = certified(size=1, certified=1, validity_months=None)
    theirs, kept = _bulk_zip(admin, expiring), _bulk_zip(admin, lifelong)
    with zipfile.ZipFile(theirs.result_path) as archive:
        assert sorted(n.split("_")[0] for n in archive.namelist()) == sorted(c.serial for c in expiring.certificates)
    theirs_path, kept_path = Path(theirs.result_path), Path(kept.result_path)
    login(admin)
    downloaded = client.get(f"/jobs/{theirs.id}/download")
    assert downloaded.status_code == 200 and downloaded.data[:2] == b"PK"
    downloaded.close()
    monkeypatch.setattr(clock, "now", lambda: LATER)
    monkeypatch.setattr(clock, "today", lambda: LATER.astimezone(clock.MOROCCO).date())
    output = _purge(app, "--yes")
    assert "2 people" in output or "2 personnes" in output
    assert not theirs_path.exists() and kept_path.exists()
    assert client.get(f"/jobs/{theirs.id}/download").status_code == 404  # their PDFs are not downloadable
    downloaded = client.get(f"/jobs/{kept.id}/download")
    assert downloaded.status_code == 200
    downloaded.close()
    db.session.expire_all()
    assert db.session.get(Job, theirs.id).result_path is None


@pytest.mark.parametrize("hours", [1])
def test_an_upload_lives_as_long_as_its_setting(app, admin, client, login, hours):
    app.config["RETENTION_UPLOADS_HOURS"] = hours
    login(admin)
    client.post("/imports/trainees", data={"file": (io.BytesIO(csv_file([FRENCH_HEADER, _row("A", "a@example.ma")])),
                                                    "a.csv")}, content_type="multipart/form-data")
    uploads = sorted((Path(app.config["EXPORTS_DIR"]) / "uploads").iterdir())
    for upload in uploads:
        os.utime(upload, (time.time() - 2 * 3600,) * 2)
    _purge(app, "--yes")
    assert not any(p.exists() for p in uploads)
