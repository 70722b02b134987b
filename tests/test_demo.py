"""`flask demo` (what `make run` loads into an empty database): it loads, refuses a second load or skips it with
--if-empty, and shows a two-level pathway — the foundations, then a sector track requiring them — with holders
of the first level, some of them enrolled at the second, and a few recognitions of prior learning. On SQLite and
PostgreSQL."""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from certificates.models import Certificate
from common.extensions import db
from skills import queries
from skills.models import Cohort, Recognition, Track


def test_the_demo_loads_a_two_level_pathway(app, client):
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["demo", "--if-empty"])
    assert loaded.exit_code == 0 and "Demo loaded" in loaded.output, loaded.output
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "already loaded" in again.output
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code != 0 and "empty" in refused.output

    foundations, sector = (db.session.scalar(sa.select(Track).where(Track.code == code))
                           for code in ("RAI-FOUND", "RAI-PUBLIC"))
    assert foundations.requires == [] and sector.requires == [foundations]
    assert foundations.title_zgh and sector.title_zgh  # Tifinagh titles, as the demo's names have

    holders = set(db.session.scalars(sa.select(Certificate.trainee_id).where(Certificate.track_id == foundations.id)))
    assert len(holders) >= 5
    # Some holders of the foundations are enrolled in the sector track's cohorts.
    at_level_2 = {t.id for c in db.session.scalars(sa.select(Cohort).where(Cohort.track_id == sector.id))
                  for t in db.session.scalars(queries.cohort_roster(c.id))} & holders
    assert len(at_level_2) >= 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Recognition)) >= 3

    # The demo trainee: level 1 certified, level 2 in progress with a recognised module.
    trainee_id = db.session.scalar(sa.select(User.trainee_id).where(User.email == "trainee@kafaa.ma"))
    assert [(track.code, step.level, step.state) for track, step in queries.trainee_pathway(trainee_id)] == [
        ("RAI-FOUND", 1, "certified"), ("RAI-PUBLIC", 2, "in_progress")]
    progress = {p.track.code: p.eligibility for p in queries.trainee_progress(trainee_id)}
    assert progress["RAI-PUBLIC"].modules_recognised and not progress["RAI-PUBLIC"].prerequisites_missing

    # Newcomers at level 2 lack the foundations: the cohort's page flags them.
    casa = db.session.scalar(sa.select(Cohort).where(Cohort.code == "JUST-CASA-01"))
    roster = [t.id for t in db.session.scalars(queries.cohort_roster(casa.id))]
    gaps = queries.prerequisite_gaps(sector, roster)
    assert {tid for tid, g in gaps.items() if not g} == set(roster) & holders
    assert any(gaps.values())
