"""trained_periods, the table the governance figures read, stays exactly what the definition computes from
the raw certificates, whatever happens: issuing, reissuing, renewing, revoking, a refused request rolled
back, a track starting or ceasing to count, a trainee's category, sector, region or gender changing, a
cohort's training language changing, and the clock moving on (expiry is by date)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from certificates import operations as certificate_operations
from certificates.models import Certificate
from common import clock
from common.clock import MOROCCO
from common.extensions import db
from governance import queries
from governance.models import TrainedPeriod
from governance.rules import CountedPeriod as Period, CountingCertificate, trained_periods
from skills import operations
from skills.models import Cohort, Track, Trainee
from skills.vocab import CATEGORIES, TRAINING_LANGUAGES

START = datetime(2026, 2, 10, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def moving_clock(monkeypatch):
    """One instant for today's date (in Morocco) and for revocation and replacement times."""
    now = {"instant": START}
    monkeypatch.setattr(clock, "today", lambda: now["instant"].astimezone(MOROCCO).date())
    monkeypatch.setattr(certificate_operations, "utcnow", lambda: now["instant"])
    # Eligibility and the signed PDF are beside the point here (tests/test_certificate_issuance.py covers
    # them), and rendering PDFs would dominate the test's time.
    monkeypatch.setattr(certificate_operations, "unmet_requirements", lambda trainee, track, known=None: [])
    monkeypatch.setattr(certificate_operations, "render_pdf", lambda certificate, revoked=False: b"%PDF-1.7 test")
    return now


def _track_data(track: Track, counts: bool) -> dict:
    return {"code": track.code, "title": {"fr": "a", "ar": "ب", "en": "c"}, "modules": [m.code for m in track.modules],
            "validity_months": track.validity_months, "counts_toward_target": counts}


def _person_data(trainee: Trainee, **changes) -> dict:
    return {**{f: getattr(trainee, f) for f in operations.TRAINEE_FIELDS}, **changes}


def _definition(day: date, filters: queries.Filters) -> set[tuple]:
    people = queries.trained_people_by_definition(day, filters).subquery()
    return set(db.session.execute(sa.select(people.c.trainee_id, people.c.language)).all())


def _maintained(day: date, filters: queries.Filters) -> set[tuple]:
    rows = db.session.execute(queries.trained_people(day, filters)).all()
    assert len(rows) == len({row.trainee_id for row in rows}), f"someone counted twice on {day}"
    return {tuple(row) for row in rows}


def _days_that_matter() -> set[date]:
    """Every day on which someone may start or stop counting, with its neighbours."""
    days = {clock.today()}
    for issued_on, expires_on, revoked_at, superseded_at in db.session.execute(sa.select(
            Certificate.issued_on, Certificate.expires_on, Certificate.revoked_at, Certificate.superseded_at)):
        days |= {issued_on, issued_on - timedelta(days=1)}
        if expires_on:
            days |= {expires_on, expires_on + timedelta(days=1)}
        for moment in (revoked_at, superseded_at):
            if moment:
                local = moment.astimezone(MOROCCO).date()
                days |= {local - timedelta(days=1), local, local + timedelta(days=1)}
    return days


def assert_periods_exact(track_ids: list[int]) -> None:
    stale = db.session.scalar(sa.select(sa.func.count()).select_from(TrainedPeriod)
                              .join(Trainee, Trainee.id == TrainedPeriod.trainee_id)
                              .where(sa.or_(TrainedPeriod.category != Trainee.category,
                                            TrainedPeriod.sector != Trainee.sector,
                                            TrainedPeriod.region != Trainee.region,
                                            sa.func.coalesce(TrainedPeriod.gender, "-")
                                            != sa.func.coalesce(Trainee.gender, "-"))))
    assert stale == 0, "a period kept an old category, sector, region or gender"
    scopes = [queries.Filters(), queries.Filters(sector="justice")] + [queries.Filters(track_id=t) for t in track_ids]
    for day in sorted(_days_that_matter()):
        for filters in scopes:
            assert _maintained(day, filters) == _definition(day, filters), (day, filters)


PERSON, TRACK = st.integers(0, 2), st.integers(0, 2)
STEP = st.one_of(
    st.tuples(st.just("issue"), PERSON, TRACK),
    st.tuples(st.just("reissue"), PERSON, TRACK),
    st.tuples(st.just("revoke"), PERSON, TRACK),
    st.tuples(st.just("reinstate"), PERSON, TRACK),
    st.tuples(st.just("abandon"), PERSON, TRACK),
    st.tuples(st.just("flip"), TRACK),
    st.tuples(st.just("profile"), PERSON, st.sampled_from(sorted(CATEGORIES)), st.sampled_from(["health", "justice"]),
              st.sampled_from(["oriental", "souss-massa"]), st.sampled_from(["f", "m", None])),
    st.tuples(st.just("language"), st.integers(0, 3), st.sampled_from(sorted(TRAINING_LANGUAGES))),
    st.tuples(st.just("clock"), st.integers(0, 400), st.integers(0, 24 * 60 - 1)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=14))
def test_trained_periods_stay_exact(admin, moving_clock, make_track, make_trainee, make_cohort, steps):
    moving_clock["instant"] = START
    tracks = [make_track(validity_months=12), make_track(validity_months=None), make_track(validity_months=6)]
    operations.update_track(admin, tracks[2], _track_data(tracks[2], False))  # starts out not counting
    people = [make_trainee(category="engineer", sector="health", region="oriental", gender="f"),
              make_trainee(category="official", sector="justice", region="souss-massa", gender=None),
              make_trainee(category="researcher", sector="health", region="souss-massa", gender="m")]
    # Person 1 took the first track twice (French, then Arabic); person 0 has no cohort of the second
    # track, so its certificates of it have no training language.
    cohorts = [make_cohort(track=tracks[0], trainees=people[:2], language="fr", starts_on=date(2025, 9, 1)),
               make_cohort(track=tracks[0], trainees=people[1:], language="ar"),
               make_cohort(track=tracks[1], trainees=people[1:], language="ary"),
               make_cohort(track=tracks[2], trainees=[people[0], people[2]], language="en")]
    db.session.commit()

    def current(person: int, track: int) -> Certificate | None:
        return certificate_operations.current_certificate(people[person].id, tracks[track].id)

    for step in steps:
        action, *args = step
        if action in ("issue", "abandon"):
            try:
                certificate_operations.issue_certificate(admin, people[args[0]], tracks[args[1]], known_eligible=True)
            except certificate_operations.RevokedCertificate:  # refused before writing: a revocation sticks
                db.session.rollback()
                continue
            if action == "abandon":  # written and flushed, then the request fails: nothing may remain
                db.session.rollback()
                continue
        elif action == "reinstate":
            revoked = certificate_operations.revoked_certificate(people[args[0]].id, tracks[args[1]].id)
            if revoked is not None:
                certificate_operations.reinstate_certificate(admin, revoked, "test")
        elif action == "reissue" and current(*args) is not None:
            certificate_operations.reissue_certificate(admin, current(*args))
        elif action == "revoke" and current(*args) is not None:
            certificate_operations.revoke_certificate(admin, current(*args), "test")
        elif action == "flip":
            track = tracks[args[0]]
            operations.update_track(admin, track, _track_data(track, not track.counts_toward_target))
        elif action == "profile":
            person, category, sector, region, gender = args
            operations.update_trainee(admin, people[person], _person_data(
                people[person], category=category, sector=sector, region=region, gender=gender))
        elif action == "language":
            cohorts[args[0]].language = args[1]
        elif action == "clock":
            moving_clock["instant"] += timedelta(days=args[0], minutes=args[1])
        db.session.commit()
    assert_periods_exact([t.id for t in tracks])


def test_periods_rule_on_hand_picked_cases():
    """The pure rule: revocation and replacement end a certificate on the day before, in Morocco; the
    language is the smallest of the certificates counting on each day; nothing overlaps."""
    revoked = datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 July in Morocco
    fr = CountingCertificate(1, date(2026, 1, 10), date(2026, 12, 31), None, None, "fr")
    ar = CountingCertificate(2, date(2026, 3, 1), None, revoked, None, "ar")
    unknown = CountingCertificate(2, date(2027, 1, 1), None, None, None, None)
    never = CountingCertificate(1, date(2026, 5, 5), None, None, datetime(2026, 5, 4, 12, tzinfo=timezone.utc), "en")
    assert sorted(trained_periods([fr, ar, unknown, never]), key=lambda p: (p.track_id or 0, p.first_day)) == [
        Period(None, date(2026, 1, 10), date(2026, 2, 28), "fr"),
        Period(None, date(2026, 3, 1), date(2026, 6, 30), "ar"),
        Period(None, date(2026, 7, 1), date(2026, 12, 31), "fr"),
        Period(None, date(2027, 1, 1), None, None),
        Period(1, date(2026, 1, 10), date(2026, 12, 31), "fr"),
        Period(2, date(2026, 3, 1), date(2026, 6, 30), "ar"),
        Period(2, date(2027, 1, 1), None, None),
    ]
    assert trained_periods([]) == []


def test_bulk_import_of_a_changed_trainee_moves_their_figures(app, admin, make_track, make_trainee, moving_clock):
    """The spreadsheet import updates trainees in bulk, outside the unit of work: the periods follow."""
    from exchange.imports.readers import read_table
    from exchange.imports.trainees import import_trainees

    track = make_track()
    person = make_trainee(sector="health", email="moved@example.ma")
    certificate_operations.issue_certificate(admin, person, track, known_eligible=True)
    db.session.commit()
    csv = ("name,name_ar,email,category,sector,region,gender\n"
           f"{person.name},{person.name_ar},moved@example.ma,official,justice,oriental,m\n").encode()
    result = import_trainees(admin, read_table("people.csv", csv, max_rows=10), dry_run=False)
    db.session.commit()
    assert result["updated"] == 1
    assert db.session.execute(sa.select(TrainedPeriod.category, TrainedPeriod.sector, TrainedPeriod.region,
                                        TrainedPeriod.gender)).all() == [("official", "justice", "oriental", "m")] * 2
    assert_periods_exact([track.id])


def test_rebuild_repairs_the_table(app, admin, make_track, make_trainee, moving_clock):
    track = make_track()
    people = [make_trainee() for _ in range(3)]
    for person in people:
        certificate_operations.issue_certificate(admin, person, track, known_eligible=True)
    db.session.commit()
    expected = db.session.execute(sa.select(TrainedPeriod.trainee_id, TrainedPeriod.track_id, TrainedPeriod.first_day)
                                  .order_by(TrainedPeriod.trainee_id, TrainedPeriod.track_id)).all()
    db.session.execute(sa.delete(TrainedPeriod).where(TrainedPeriod.trainee_id == people[0].id))
    db.session.execute(sa.update(TrainedPeriod).values(sector="justice"))  # SQL by hand, behind the ORM's back
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["report", "rebuild-periods"])
    assert result.exit_code == 0 and "6 periods" in result.output, result.output
    assert db.session.execute(sa.select(TrainedPeriod.trainee_id, TrainedPeriod.track_id, TrainedPeriod.first_day)
                              .order_by(TrainedPeriod.trainee_id, TrainedPeriod.track_id)).all() == expected
    assert len(expected) == 6
    assert_periods_exact([track.id])
