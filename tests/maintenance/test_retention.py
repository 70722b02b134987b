"""`flask purge`: personal data past its retention period goes, anonymous statistics stay exactly the same,
a purged person's certificate still answers (expired, without names), and the audit chain holds."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from accounts import operations as accounts
from accounts.models import ApiToken, OutboxMessage, User
from audit.models import AuditEntry
from common import clock
from common.extensions import db
from governance import queries
from governance.models import QuarterSnapshot
from governance.rules import Quarter
from privacy.operations import request_correction as ask_correction
from skills.models import Attendance, Trainee
from tests.helpers import PASSWORD, table_counts

LATER = datetime(2034, 6, 1, 12, 0, tzinfo=timezone.utc)  # certificates of 2026 expired in 2028: 5 years on


@pytest.fixture
def move_clock(monkeypatch):
    def move(instant: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: instant)
        monkeypatch.setattr(clock, "today", lambda: instant.astimezone(clock.MOROCCO).date())
    return move


def _figures(client, headers) -> dict:
    """Every governance figure: live quarters, the closed one, the cohort rates, the query layer itself."""
    quarters = ["2026-Q4", "2028-Q4", "2034-Q2"]
    return {
        "api": {q: client.get(f"/api/v1/stats/progress?quarter={q}", headers=headers).json for q in quarters},
        "api_sector": client.get("/api/v1/stats/progress?quarter=2026-Q4&sector=health", headers=headers).json,
        "cohorts": client.get("/api/v1/stats/cohorts?quarter=2026-Q4", headers=headers).json,
        "queries": queries.figures(Quarter(2026, 4)),
        "snapshots": {s.quarter: s.figures for s in db.session.scalars(sa.select(QuarterSnapshot))},
    }


def _purge(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["purge", *args], input=input)


def _planned(app) -> list[int]:
    """The dry run's counts: outbox mails, API tokens, people, files."""
    result = _purge(app, "--dry-run")
    assert result.exit_code == 0, result.output
    return [int(m.group(1)) for m in re.finditer(r": (\d+)$", result.output, re.MULTILINE)]


def test_purge_anonymises_expired_people_and_keeps_every_figure(app, client, certified, make_user, token_for,
                                                                move_clock):
    expiring = certified(size=3, certified=2, validity_months=24, employer="Ministère de la Santé")
    lifelong = certified(size=2, certified=1, validity_months=None)
    holder = expiring.trainees[0]
    names = [(t.name, t.name_ar, t.email) for t in expiring.trainees]
    account = make_user("trainee", trainee_id=holder.id)
    token_for(account)
    accounts.invite(None, account)
    ask_correction(account, {"field": "name_ar", "value": "اسم مصحح", "reason": "typo"})
    db.session.commit()
    old_token = expiring.certificates[0].token
    kept_certificate = lifelong.certificates[0]

    move_clock(LATER)
    admin = make_user("admin")
    headers = token_for(admin)
    assert client.post("/api/v1/stats/quarters/2026-Q4/close", headers=headers).status_code == 201
    before = _figures(client, headers)
    assert before["api"]["2026-Q4"]["trained"] == 3 and before["api"]["2034-Q2"]["trained"] == 1
    counts = table_counts()

    # The three of the first cohort, and the one of the second who never finished; the lifelong holder stays.
    # Outbox: the invitation and the mail telling each of the three holders their certificate was issued.
    assert _planned(app) == [1 + 3, counts["api_tokens"], 4, 0] and table_counts() == counts
    refused = _purge(app, input="n\n")
    assert refused.exit_code != 0 and table_counts() == counts

    done = _purge(app, "--yes")
    assert done.exit_code == 0, done.output
    db.session.expire_all()

    # Anonymous statistics: every figure, live or frozen, exactly as before.
    # API tokens carry real expiry times, long past on the moved clock: the purge deleted them all.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    headers = token_for(admin)
    assert _figures(client, headers) == before
    after_counts = table_counts()
    for table in ("trainees", "enrollments", "attendance", "module_results", "certificates", "cohorts",
                  "cohort_attendance_totals", "verification_counts", "users"):
        assert after_counts[table] == counts[table], table
    assert after_counts["certificate_files"] == counts["certificate_files"] - 2
    assert after_counts["outbox_messages"] == 0 and after_counts["api_tokens"] == 1
    assert after_counts["correction_requests"] == 0  # what the holder asked for named them

    purged = db.session.scalars(sa.select(Trainee).where(Trainee.purged_at.is_not(None))).all()
    assert {t.id for t in purged} == {t.id for t in expiring.trainees} | {lifelong.trainees[1].id}
    for trainee in purged:
        assert (trainee.name, trainee.name_ar, trainee.name_tfng, trainee.employer) == ("", "", None, "")
        assert trainee.email == f"purged-{trainee.id}@purged.invalid"
        assert (trainee.category, trainee.sector, trainee.gender) == ("engineer", "health", "f")
    kept = db.session.get(Trainee, lifelong.trainees[0].id)
    assert kept.purged_at is None and kept.name.startswith("Trainee")

    # The account is blanked and disabled: no sign-in, no token, no mail left.
    account = db.session.get(User, account.id)
    assert not account.active and account.password_hash is None and account.trainee_id is None
    assert account.email.endswith("@purged.invalid")
    assert client.post("/api/v1/tokens", json={"email": names[0][2], "password": PASSWORD}).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
        ApiToken.user_id == account.id)) == 0

    # The QR code on the paper still answers: expired, without names.
    answer = client.get(f"/v/{old_token}", headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "expired" and answer.json["holder_removed"] is True
    assert answer.json["holder"] is None and answer.json["holder_ar"] is None
    page = client.get(f"/v/{old_token}", headers={"Accept": "text/html", "Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "retention period" in text
    for name, name_ar, email in names:
        assert name not in answer.get_data(as_text=True) and name not in text and name_ar not in text
    fresh = client.get(f"/v/{kept_certificate.token}", headers={"Accept": "application/json"}).json
    assert fresh["status"] == "valid" and fresh["holder"] == lifelong.trainees[0].name

    # No file, no new certificate for a purged person.
    serial = expiring.certificates[0].serial
    assert client.get(f"/api/v1/certificates/{serial}/pdf", headers=headers).status_code == 404
    reissued = client.post("/api/v1/certificates", headers=headers,
                           json={"trainee_id": holder.id, "track": expiring.track.code})
    assert reissued.status_code == 409

    # Audited with counts only; the chain still verifies; a second run finds nothing.
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "retention.purge")).one()
    assert entry.after == {"outbox": 1 + 3, "api_tokens": counts["api_tokens"], "people": 4, "files": 0}
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    assert _planned(app)[2] == 0

    # The trail no longer holds their names or addresses: the values of the entries about them are erased
    # (the links keep a digest of them), while entries about others keep theirs and stay checked.
    trail = " ".join(json.dumps([e.before, e.after], ensure_ascii=False)
                     for e in db.session.scalars(sa.select(AuditEntry)))
    for name, name_ar, email in names:
        assert name not in trail and name_ar not in trail and email not in trail
    erased = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.redacted_at.is_not(None))).all()
    assert {e.target_type for e in erased} >= {"trainee", "certificate", "user", "correction_request"}
    kept = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.target_type == "trainee", AuditEntry.target_id == str(lifelong.trainees[0].id))).first()
    assert kept.redacted_at is None and kept.after
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == kept.id).values(after={"name": "forged"}))
    db.session.commit()
    tampered = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert tampered.exit_code != 0 and f"entry #{kept.seq}" in tampered.output


def test_recent_activity_keeps_a_person(app, certified, move_clock):
    programme = certified(size=2, certified=1, validity_months=24)
    move_clock(datetime(2031, 6, 1, tzinfo=timezone.utc))  # the certificate expired in 2028: 3 years only
    assert _planned(app)[2] == 0
    assert _purge(app, "--yes").exit_code == 0
    assert all(db.session.get(Trainee, t.id).purged_at is None for t in programme.trainees)
    # A late attendance correction is activity too.
    move_clock(LATER)
    db.session.execute(sa.update(Attendance).where(Attendance.trainee_id == programme.trainees[1].id)
                       .values(recorded_at=LATER - timedelta(days=1)))
    db.session.commit()
    assert _purge(app, "--yes").exit_code == 0
    assert [db.session.get(Trainee, t.id).purged_at is not None for t in programme.trainees] == [True, False]


def test_outbox_and_tokens_follow_their_own_periods(app, make_user, move_clock):
    user = make_user("admin")
    now = clock.now()
    for days in (91, 89):
        db.session.add(OutboxMessage(recipient=user.email, subject="s", body="b", created_at=now - timedelta(days=days)))
        db.session.add(ApiToken(user_id=user.id, token_hash=f"{days:064d}", expires_at=now - timedelta(days=days - 60)))
    db.session.commit()
    app.config["RETENTION_OUTBOX_DAYS"] = 90
    app.config["RETENTION_API_TOKENS_DAYS"] = 30
    result = _purge(app, "--yes")
    assert result.exit_code == 0, result.output
    assert [m.created_at.date() for m in db.session.scalars(sa.select(OutboxMessage))] == [(now - timedelta(days=89)).date()]
    assert [t.token_hash for t in db.session.scalars(sa.select(ApiToken))] == [f"{89:064d}"]
    assert db.session.get(User, user.id).active  # staff accounts are never purged


def test_dry_run_output_is_french_by_default(app):
    result = _purge(app, "--dry-run")
    assert result.exit_code == 0 and "rien n'a été supprimé" in result.output.lower()
