"""Governance figures against a hand-built dataset: who counts as trained, the "<5" rule, quarters in
Morocco's time zone, frozen snapshots, and attendance totals that stay exact."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from certificates.models import Certificate
from common import clock
from common.extensions import db
from skills.models import Attendance, CohortAttendanceTotal, TrainingSession
from skills.rules import ATTENDED_STATUSES, COUNTED_STATUSES

_serial = iter(range(1, 10**6))


@pytest.fixture
def today(monkeypatch):
    """The clock stands on 2026-11-15, in the fourth quarter."""
    day = date(2026, 11, 15)
    monkeypatch.setattr(clock, "today", lambda: day)
    return day


@pytest.fixture
def make_certificate(app):
    from certificates.operations import certified_record

    def make(trainee, track, issued_on, *, expires_on=None, revoked_at=None, cohort=None):
        certificate = Certificate(
            serial=f"KF-{issued_on.year}-{next(_serial):06d}", trainee_id=trainee.id, track_id=track.id,
            cohort_id=cohort.id if cohort else None, holder=trainee.name, holder_ar=trainee.name_ar,
            issued_on=issued_on, expires_on=expires_on, kid="00000000", token=str(next(_serial)),
            verification_code="0000-0000", pdf_sha256="0" * 64, revoked_at=revoked_at,
            certified=certified_record(track), status_index=next(_serial))
        db.session.add(certificate)
        db.session.commit()
        return certificate
    return make


@pytest.fixture
def dataset(today, make_track, make_trainee, make_cohort, make_certificate):
    """Eight people; six trained on the 15th of November 2026.

    engineer/health/rabat: A (two certificates: counts once), B, C, D, E (five: shown exactly)
    researcher/justice/oriental: F (one: shown "<5")
    official: G revoked, H expired; I holds only a certificate of a track that does not count.
    """
    track = make_track(code="RAI")
    second = make_track(code="RAI-2")
    other = make_track(code="SIDE")
    from skills import operations
    operations.update_track(None, other, {"code": "SIDE", "title": {"fr": "a", "ar": "ب", "en": "c"},
                                          "modules": [m.code for m in other.modules], "counts_toward_target": False})
    db.session.commit()
    engineers = [make_trainee(category="engineer", sector="health", region="rabat-sale-kenitra", gender="f")
                 for _ in range(5)]
    researcher = make_trainee(category="researcher", sector="justice", region="oriental", gender="m")
    revoked, expired, side = (make_trainee(category="official", sector="education", region="oriental")
                              for _ in range(3))
    cohort_fr = make_cohort(track=track, trainees=engineers, language="fr")
    cohort_ar = make_cohort(track=track, trainees=[researcher], language="ar")
    for person in engineers:
        make_certificate(person, track, date(2026, 8, 1), cohort=cohort_fr)
    make_certificate(engineers[0], second, date(2026, 10, 2))  # a second track: still one person
    make_certificate(researcher, track, date(2026, 10, 20), cohort=cohort_ar)
    make_certificate(revoked, track, date(2026, 8, 1), revoked_at=datetime(2026, 11, 1, 10, tzinfo=timezone.utc))
    make_certificate(expired, track, date(2024, 8, 1), expires_on=date(2026, 9, 30))
    make_certificate(side, other, date(2026, 8, 1))
    return {"track": track, "engineers": engineers, "researcher": researcher, "revoked": revoked,
            "expired": expired, "side": side}


@pytest.fixture
def governance_headers(make_user, token_for):
    return token_for(make_user("governance"))


@pytest.fixture
def admin_headers(make_user, token_for):
    return token_for(make_user("admin"))


def test_who_counts_as_trained(client, dataset, admin_headers, governance_headers):
    # Admins see exact figures; governance the same under the disclosure rule (tests/test_disclosure.py).
    body = client.get("/api/v1/stats/progress", headers=admin_headers).json
    assert body["quarter"] == "2026-Q4" and body["target"] == 500
    assert body["trained"] == 6  # five engineers (one with two certificates) and the researcher
    assert body["by_category"] == {"engineer": 5, "researcher": 1, "official": 0}
    assert body["by_sector"]["health"] == 5 and body["by_sector"]["justice"] == 1
    assert body["by_sector"]["education"] == 0  # revoked, expired and non-counting tracks are out
    assert body["by_region"]["rabat-sale-kenitra"] == 5 and body["by_region"]["oriental"] == 1
    assert body["by_language"] == {"fr": 5, "ar": 1, "ary": 0, "zgh": 0, "en": 0}
    assert body["by_gender"] == {"f": 5, "m": 1}
    seen = client.get("/api/v1/stats/progress", headers=governance_headers).json
    assert seen["trained"] == 6
    # 6 = 5 + 1: showing the 5 would give the 1 away, hiding it as "5+" too (6 - 5+ leaves 1): the
    # table is withheld.
    assert seen["by_category"] == {"engineer": "…", "researcher": "…", "official": "…"}
    assert seen["by_gender"] == {"f": "…", "m": "…"}


def test_quarter_figures_are_taken_on_the_quarters_last_day(client, dataset, governance_headers):
    q3 = client.get("/api/v1/stats/progress?quarter=2026-Q3", headers=governance_headers).json
    # On 30 September: the five engineers and the not-yet-revoked official; the expired certificate
    # was still valid on its last day; the researcher was not yet certified.
    assert q3["trained"] == 7
    # 7 - 5 would give the official's 2 away: the engineers are hidden too ("5+": 7 - 5+ is 1 or 2).
    assert q3["by_category"] == {"engineer": "5+", "researcher": 0, "official": "<5"}
    trend = client.get("/api/v1/stats/progress", headers=governance_headers).json["trend"]
    assert {"quarter": "2026-Q3", "trained": 7} in trend and trend[-1] == {"quarter": "2026-Q4", "trained": 6}


def test_filtered_totals_follow_the_small_count_rule(client, dataset, governance_headers, admin_headers):
    # A filtered total is a cell of the unfiltered sector table (6 = health 5 + justice 1), which
    # cannot be protected otherwise: it is withheld, filtered or not.
    body = client.get("/api/v1/stats/progress?sector=justice", headers=governance_headers).json
    assert body["trained"] == "…" and body["trend"][-1]["trained"] == "…"
    body = client.get("/api/v1/stats/progress?sector=health", headers=governance_headers).json
    assert body["trained"] == "…"
    assert client.get("/api/v1/stats/progress?sector=justice", headers=admin_headers).json["trained"] == 1
    assert client.get("/api/v1/stats/progress?sector=health", headers=admin_headers).json["trained"] == 5
    assert client.get("/api/v1/stats/progress?sector=space", headers=governance_headers).status_code == 422
    assert client.get("/api/v1/stats/progress?quarter=2031-Q1", headers=governance_headers).status_code == 422
    assert client.get("/api/v1/stats/progress?quarter=Q4", headers=governance_headers).status_code == 422


def test_quarter_boundaries_follow_moroccos_time_zone(client, today, make_track, make_trainee, make_certificate,
                                                      admin_headers):
    from common.clock import MOROCCO

    track = make_track()
    people = [make_trainee() for _ in range(6)]
    for person in people:
        make_certificate(person, track, date(2026, 4, 1))
    # 00:30 on 1 July in Morocco is still 30 June in UTC: a third-quarter revocation, not a second.
    revoked_at = datetime(2026, 7, 1, 0, 30, tzinfo=MOROCCO).astimezone(timezone.utc)
    assert revoked_at.date() == date(2026, 6, 30), "this test needs Morocco ahead of UTC on that day"
    late = db.session.scalars(sa.select(Certificate).where(Certificate.trainee_id == people[0].id)).one()
    late.revoked_at = revoked_at
    db.session.commit()
    q2 = client.get("/api/v1/stats/progress?quarter=2026-Q2", headers=admin_headers).json
    q3 = client.get("/api/v1/stats/progress?quarter=2026-Q3", headers=admin_headers).json
    assert (q2["trained"], q2["certificates"]["revoked"]) == (6, 0)
    assert (q3["trained"], q3["certificates"]["revoked"]) == (5, 1)


def test_certificate_events_per_quarter(client, dataset, admin_headers, governance_headers):
    q4 = client.get("/api/v1/stats/progress", headers=admin_headers).json["certificates"]
    assert q4 == {"issued": 2, "revoked": 1, "expired": 0, "verifications": 0}
    seen = client.get("/api/v1/stats/progress", headers=governance_headers).json["certificates"]
    assert seen == {"issued": "<5", "revoked": "<5", "expired": 0, "verifications": 0}
    q3 = client.get("/api/v1/stats/progress?quarter=2026-Q3", headers=governance_headers).json["certificates"]
    assert q3["issued"] == 7 and q3["expired"] == 0  # expired on the quarter's last day: still valid then


def test_closed_quarter_snapshot_does_not_change_and_corrections_are_listed(client, dataset, admin, token_for,
                                                                              make_certificate, make_trainee):
    headers = token_for(admin)
    before = client.get("/api/v1/stats/progress?quarter=2026-Q3", headers=headers).json
    closed = client.post("/api/v1/stats/quarters/2026-Q3/close", headers=headers)
    assert closed.status_code == 201 and closed.json["trained"] == 7
    assert client.post("/api/v1/stats/quarters/2026-Q3/close", headers=headers).status_code == 409
    assert client.post("/api/v1/stats/quarters/2026-Q4/close", headers=headers).status_code == 422  # not over
    # Later edits: a backdated certificate for the third quarter, and a revocation dated in it.
    make_certificate(make_trainee(category="official"), dataset["track"], date(2026, 9, 1))
    first = db.session.scalars(sa.select(Certificate).where(Certificate.trainee_id == dataset["engineers"][1].id)).one()
    first.revoked_at = datetime(2026, 9, 15, tzinfo=timezone.utc)
    db.session.commit()
    after = client.get("/api/v1/stats/progress?quarter=2026-Q3", headers=headers).json
    assert after["closed"] is True
    assert {k: after[k] for k in ("trained", "by_category")} == {k: before[k] for k in ("trained", "by_category")}
    from governance.queries import corrections
    from governance.rules import Quarter
    changes = {c["figure"]: (c["closed"], c["now"]) for c in corrections(Quarter(2026, 4))}
    assert "trained" not in changes  # one more official, one engineer fewer
    assert changes["by_category.engineer"] == (5, 4)
    assert changes["by_category.official"] == (2, 3)
    assert changes["certificates.revoked"] == (0, 1)


def test_only_admin_and_governance_see_figures_and_nobody_but_admin_sees_people(
        client, dataset, make_user, token_for, login, governance_headers):
    for role in ("trainer", "trainee"):
        assert client.get("/api/v1/stats/progress", headers=token_for(make_user(role))).status_code == 403
    governance = make_user("governance")
    login(governance)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "6" in page
    for person in dataset["engineers"] + [dataset["researcher"]]:
        assert person.name not in page and person.email not in page
    assert client.get("/dashboard/people?category=engineer").status_code == 403
    admin = make_user("admin")
    login(admin)
    people = client.get("/dashboard/people?category=engineer").get_data(as_text=True)
    assert all(p.name in people for p in dataset["engineers"])
    assert dataset["researcher"].name not in people


def test_targets_are_edited_by_admins_only(client, admin, token_for, governance_headers):
    headers = token_for(admin)
    assert client.put("/api/v1/stats/targets", headers=governance_headers, json={"total": 600}).status_code == 403
    assert client.put("/api/v1/stats/targets", headers=headers, json={"total": -1}).status_code == 422
    assert client.put("/api/v1/stats/targets", headers=headers, json={"wizards": 3}).status_code == 422
    response = client.put("/api/v1/stats/targets", headers=headers, json={"total": 650, "engineer": 250})
    assert response.status_code == 200 and response.json["total"] == 650 and response.json["researcher"] == 100
    assert client.get("/api/v1/stats/progress", headers=governance_headers).json["targets"]["engineer"] == 250


def _raw_totals(cohort_id: int) -> tuple[int, int]:
    attended, counted = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(sa.case((Attendance.status.in_(ATTENDED_STATUSES), 1), else_=0)), 0),
                  sa.func.coalesce(sa.func.sum(sa.case((Attendance.status.in_(COUNTED_STATUSES), 1), else_=0)), 0))
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(TrainingSession.cohort_id == cohort_id)).one()
    return attended, counted


STATUS = st.sampled_from(["present", "late", "excused", "absent"])
STEP = st.one_of(
    st.tuples(st.just("record"), st.integers(0, 2), st.lists(st.tuples(st.integers(0, 3), STATUS), min_size=1,
                                                            max_size=4, unique_by=lambda r: r[0])),
    st.tuples(st.just("delete"), st.integers(0, 2), st.just([])),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_attendance_totals_stay_exact(admin, make_cohort, make_trainee, make_session, steps):
    """After any sequence of saves and session deletions, the running totals equal the raw sum."""
    from skills import operations

    trainees = [make_trainee() for _ in range(4)]
    cohort = make_cohort(trainees=trainees)
    sessions = [make_session(cohort) for _ in range(3)]
    for action, index, records in steps:
        session = sessions[index]
        if db.session.get(TrainingSession, session.id) is None:
            continue
        if action == "record":
            operations.record_attendance(admin, session, [{"trainee_id": trainees[t].id, "status": s}
                                                          for t, s in records])
        else:
            operations.delete_session(admin, session)
        db.session.commit()
    total = db.session.get(CohortAttendanceTotal, cohort.id)
    assert ((total.attended, total.counted) if total else (0, 0)) == _raw_totals(cohort.id)


def test_report_holds_the_dashboards_numbers(client, app, dataset, governance_headers, tmp_path):
    import openpyxl
    import pypdfium2 as pdfium

    api = client.get("/api/v1/stats/progress?quarter=2026-Q4", headers=governance_headers).json
    result = app.test_cli_runner().invoke(args=["report", "quarterly", "2026-Q4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(tmp_path / "kafaa-report-2026-Q4.xlsx")
    summary = {row[0]: row[1] for row in workbook["Résumé"].iter_rows(min_row=6, values_only=True) if row[0]}
    assert summary["Personnes formées"] == api["trained"] and summary["Objectif"] == api["target"]
    for sheet, name in (("Catégories", "by_category"), ("Secteurs", "by_sector"), ("Régions", "by_region"),
                        ("Genre", "by_gender"), ("Langues", "by_language")):
        counts = {row[0]: row[3] for row in workbook[sheet].iter_rows(min_row=6, values_only=True)
                  if row[0] and not (row[0] == "unknown" and row[3] == 0)}
        assert counts == api[name], sheet
    pdf = pdfium.PdfDocument((tmp_path / "kafaa-report-2026-Q4.pdf").read_bytes())
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert f"{api['trained']} / {api['target']}" in text or (str(api["trained"]) in text and "500" in text)
    assert "<5" in text or "> 5" in text
    assert client.get("/api/v1/stats/progress?quarter=2026-Q4", headers=governance_headers).json == api
    refused = app.test_cli_runner().invoke(args=["report", "quarterly", "2026-Q9", "--out", str(tmp_path / "x")])
    assert refused.exit_code != 0 and "2026-Q4" in refused.output and not (tmp_path / "x").exists()


def test_report_button_runs_a_job_with_a_download(client, app, dataset, make_user, login):
    import io
    import zipfile

    login(make_user("governance"))
    response = client.post("/dashboard/report", data={"quarter": "2026-Q4"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Finished." in page
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with client.get(f"/jobs/{job_id}/download") as download:
        names = sorted(zipfile.ZipFile(io.BytesIO(download.data)).namelist())
    assert names == ["kafaa-report-2026-Q4.pdf", "kafaa-report-2026-Q4.xlsx"]


def _summary(xlsx: bytes) -> dict:
    import io

    import openpyxl
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    return {row[0]: row[1] for row in workbook["Résumé"].iter_rows(min_row=6, values_only=True) if row[0]}


@pytest.mark.parametrize("role", ["governance", "admin"])
def test_the_report_downloads_straight_from_the_dashboard(client, dataset, make_user, login, role):
    import io
    import re

    import openpyxl

    login(make_user(role))
    page = client.get("/dashboard?quarter=2026-Q4").get_data(as_text=True)
    assert 'href="/dashboard/report/2026-Q4.pdf"' in page and 'href="/dashboard/report/2026-Q4.xlsx"' in page
    pdf = client.get("/dashboard/report/2026-Q4.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="kafaa-report-2026-Q4.pdf"'
    assert pdf.headers["Cache-Control"] == "no-store"
    xlsx = client.get("/dashboard/report/2026-Q4.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert xlsx.headers["Content-Disposition"] == 'attachment; filename="kafaa-report-2026-Q4.xlsx"'
    shown = re.search(r'<span class="big">([^<]+)</span>', page).group(1)
    assert str(_summary(xlsx.data)["Personnes formées"]) == shown == "6"  # the dashboard's figure
    cells = {str(c) for ws in openpyxl.load_workbook(io.BytesIO(xlsx.data)).worksheets
             for row in ws.iter_rows(values_only=True) for c in row if c is not None}
    # A governance publication: the small-count rule holds even for an admin, and nobody is named.
    assert "<5" in cells
    people = dataset["engineers"] + [dataset["researcher"], dataset["revoked"], dataset["expired"]]
    assert not {p.name for p in people} & cells and not {p.email for p in people} & cells


def test_the_downloaded_report_holds_the_jobs_figures(client, app, dataset, make_user, login, tmp_path):
    result = app.test_cli_runner().invoke(args=["report", "quarterly", "2026-Q4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    login(make_user("governance"))
    direct = _summary(client.get("/dashboard/report/2026-Q4.xlsx").data)
    assert direct == _summary((tmp_path / "kafaa-report-2026-Q4.xlsx").read_bytes())


@pytest.mark.parametrize("role", ["trainer", "trainee"])
def test_the_report_download_is_refused_to_trainers_and_trainees(client, dataset, make_user, login, role):
    login(make_user(role))
    assert client.get("/dashboard/report/2026-Q4.pdf").status_code == 403
    assert client.get("/dashboard/report/2026-Q4.xlsx").status_code == 403


def test_the_report_download_checks_its_quarter(client, dataset, make_user, login):
    client.post("/logout")
    response = client.get("/dashboard/report/2026-Q4.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(make_user("governance"))
    assert client.get("/dashboard/report/2027-Q1.pdf").status_code == 422  # has not begun
    assert client.get("/dashboard/report/2026-Q9.xlsx").status_code == 422
    assert client.get("/dashboard/report/2026-Q4.zip").status_code == 404


def test_the_track_filter_shows_track_names(client, dataset, make_user, login):
    from skills import operations

    track = dataset["track"]
    operations.update_track(None, track, {"code": track.code, "modules": [m.code for m in track.modules],
                                          "title": {"fr": "Intelligence artificielle responsable",
                                                    "ar": "الذكاء الاصطناعي المسؤول", "en": "Responsible AI"}})
    db.session.commit()
    login(make_user("governance"))
    page = client.get("/dashboard?lang=fr").get_data(as_text=True)
    assert f'<option value="{track.code}" >Intelligence artificielle responsable</option>' in page
    page = client.get(f"/dashboard?lang=ar&track={track.code}").get_data(as_text=True)
    assert f'<option value="{track.code}" selected>الذكاء الاصطناعي المسؤول</option>' in page
    assert f">{track.code}</option>" not in page
