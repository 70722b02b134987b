"""The pathway: prerequisites between tracks, modules passed in one track counting in another, recognitions of
prior learning, and what certificates then state. Through the API and the pages, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from audit.models import AuditEntry
from certificates.models import Certificate
from common import clock
from common.extensions import db
from governance.models import TrainedPeriod
from skills.models import Recognition, Trainee
from skills.rules import PrerequisiteGap, eligibility, prerequisite_cycle, prerequisite_gap
from tests.helpers import table_counts


# --- the pure rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, requires, graph, cycle", [
    ("A", ["A"], {}, ["A", "A"]),
    ("A", ["B"], {"B": ["A"]}, ["A", "B", "A"]),
    ("A", ["B"], {"B": ["C"], "C": ["A"]}, ["A", "B", "C", "A"]),
    ("A", ["B", "C"], {"B": ["C"], "C": []}, None),  # a diamond is no cycle
    ("A", [], {"B": ["A"]}, None),
    ("A", ["B"], {"A": ["B", "C"], "C": ["A"]}, None),  # A's old prerequisites are replaced
])
def test_cycle_rule(code, requires, graph, cycle):
    assert prerequisite_cycle(code, requires, graph) == cycle


@pytest.mark.parametrize("statuses, reason", [
    (["valid"], None), (["superseded", "valid"], None), (["revoked", "valid"], None),
    (["expired"], "expired"), (["revoked"], "revoked"), (["superseded", "revoked"], "revoked"),
    (["revoked", "expired"], "expired"), ([], "missing"),
])
def test_prerequisite_rule(statuses, reason):
    gap = prerequisite_gap("F1", statuses)
    assert (gap.reason if gap else None) == reason


def test_recognised_modules_count_as_passed_and_attendance_met():
    every = eligibility(["A", "B"], [], 0, 0, Decimal("0.8"), recognised_modules=["A", "B"])
    assert every.eligible and every.modules_recognised == ("A", "B") and every.attendance_met
    part = eligibility(["A", "B"], ["A"], 0, 0, Decimal("0.8"), recognised_modules=["A", "B"])
    assert part.modules_recognised == ("B",) and not part.attendance_met  # A was taken: its attendance counts
    gap = eligibility(["A"], ["A"], 1, 1, Decimal("0.8"), prerequisites=[PrerequisiteGap("F1", "expired")])
    assert not gap.eligible and gap.prerequisites_missing == (PrerequisiteGap("F1", "expired"),)


# --- prerequisites through the API ---------------------------------------------------------------------------

def _track_body(code, modules, **kw):
    return {"code": code, "title": {"fr": f"Parcours {code}", "ar": f"مسار {code}", "en": f"Track {code}"},
            "modules": modules, **kw}


def test_requires_on_the_track_api_and_cycles_refused(client, admin, token_for, make_module):
    headers = token_for(admin)
    m = make_module().code
    assert client.post("/api/v1/tracks", headers=headers, json=_track_body("F1", [m])).status_code == 201
    created = client.post("/api/v1/tracks", headers=headers, json=_track_body("S1", [m], requires=["F1"]))
    assert created.status_code == 201 and created.json["requires"] == ["F1"]
    assert client.get("/api/v1/tracks/F1", headers=headers).json["requires"] == []

    before = table_counts()
    unknown = client.post("/api/v1/tracks", headers=headers, json=_track_body("S2", [m], requires=["NOPE", "F1"]))
    assert unknown.status_code == 422 and "NOPE" in unknown.json["errors"]["requires"][0]
    headers = {**headers, "Accept-Language": "en"}
    direct = client.put("/api/v1/tracks/F1", headers=headers, json=_track_body("F1", [m], requires=["S1"]))
    assert direct.status_code == 422
    assert direct.json["errors"]["requires"] == ["These prerequisites would make a cycle: F1 → S1 → F1."]
    itself = client.put("/api/v1/tracks/F1", headers=headers, json=_track_body("F1", [m], requires=["F1"]))
    assert itself.status_code == 422 and itself.json["errors"]["requires"] == ["A track cannot require itself."]
    new_self = client.post("/api/v1/tracks", headers=headers, json=_track_body("S3", [m], requires=["S3"]))
    assert new_self.status_code == 422
    french = client.put("/api/v1/tracks/F1", headers={**headers, "Accept-Language": "fr"},
                        json=_track_body("F1", [m], requires=["S1"]))
    assert "cycle" in french.json["errors"]["requires"][0] and "F1 → S1 → F1" in french.json["errors"]["requires"][0]
    assert client.post("/api/v1/tracks", headers=headers, json=_track_body("T3", [m], requires=["S1"])).status_code == 201
    indirect = client.put("/api/v1/tracks/F1", headers=headers, json=_track_body("F1", [m], requires=["T3"]))
    assert indirect.status_code == 422 and "F1 → T3 → S1 → F1" in indirect.json["errors"]["requires"][0]
    assert table_counts() == {**before, "tracks": before["tracks"] + 1, "track_modules": before["track_modules"] + 1,
                              "track_prerequisites": before["track_prerequisites"] + 1,
                              "audit_entries": before["audit_entries"] + 1, "audit_head": before["audit_head"]}

    # Left out of a PUT, prerequisites stay; an empty list clears them. Both audited.
    kept = client.put("/api/v1/tracks/S1", headers=headers, json=_track_body("S1", [m]))
    assert kept.status_code == 200 and kept.json["requires"] == ["F1"]
    cleared = client.put("/api/v1/tracks/S1", headers=headers, json=_track_body("S1", [m], requires=[]))
    assert cleared.json["requires"] == []
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "track.update")
                               .order_by(AuditEntry.seq.desc())).first()
    assert entry.before["requires"] == ["F1"] and entry.after["requires"] == []


@pytest.fixture
def pathway(client, admin, token_for, make_module, make_trainee, make_cohort, make_session):
    """Foundations F (modules A, B) and a sector track S (modules B, C) requiring F; helpers to complete a
    track through the API and to read progress."""
    headers = token_for(admin)
    a, b, c = (make_module(code).code for code in ("PA", "PB", "PC"))
    for body in (_track_body("F", [a, b], validity_months=12), _track_body("S", [b, c], requires=["F"])):
        assert client.post("/api/v1/tracks", headers=headers, json=body).status_code == 201
    from skills.models import Track
    f, s = (db.session.scalar(sa.select(Track).where(Track.code == code)) for code in ("F", "S"))

    def complete(trainee, track, modules=None, status="present"):
        cohort = make_cohort(track=track, trainees=[trainee])
        for module in modules or [m.code for m in track.modules]:
            session = make_session(cohort, module=module)
            assert client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers, json={
                "records": [{"trainee_id": trainee.id, "status": status}]}).status_code == 200
            assert client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={
                "records": [{"trainee_id": trainee.id, "module": module, "passed": True}]}).status_code == 200
        return cohort

    def progress(trainee, code, lang="en"):
        answer = client.get(f"/api/v1/trainees/{trainee.id}/progress", headers={**headers, "Accept-Language": lang})
        return next(p for p in answer.json["tracks"] if p["track"] == code)

    def issue(trainee, track, lang="en"):
        return client.post("/api/v1/certificates", headers={**headers, "Accept-Language": lang},
                           json={"trainee_id": trainee.id, "track": track.code})

    return {"headers": headers, "F": f, "S": s, "modules": (a, b, c), "complete": complete, "progress": progress,
            "issue": issue, "make_trainee": make_trainee}


def test_prerequisite_met_missing_expired_revoked_and_superseded(client, pathway, monkeypatch):
    p = pathway
    trainee = p["make_trainee"]()
    p["complete"](trainee, p["S"])
    # No certificate of F: missing, named in progress and in issuance, in the reader's language.
    s = p["progress"](trainee, "S")
    assert not s["eligible"] and s["requires"] == ["F"]
    assert s["missing"] == [{"type": "prerequisite", "track": "F", "reason": "missing",
                             "message": "Requires a valid certificate of track F."}]
    refused = p["issue"](trainee, p["S"], lang="ar")
    assert refused.status_code == 422
    assert refused.json["missing"][0]["reason"] == "missing" and "F" in refused.json["missing"][0]["message"]
    assert "Requires" not in refused.json["missing"][0]["message"]  # Arabic

    # F is passed in its own cohort; PB, shared with S, was passed in S's cohort and counts there too.
    p["complete"](trainee, p["F"], modules=[p["modules"][0]])
    assert p["progress"](trainee, "F")["eligible"]
    first = p["issue"](trainee, p["F"])
    assert first.status_code == 201
    assert p["progress"](trainee, "S")["eligible"]

    # Superseded by a reissue: the replacement counts.
    again = client.post(f"/api/v1/certificates/{first.json['serial']}/reissue", headers=p["headers"])
    assert again.status_code == 201 and p["progress"](trainee, "S")["eligible"]

    # Expired: named as expired.
    today = clock.today()
    monkeypatch.setattr(clock, "today", lambda: today + timedelta(days=400))
    s = p["progress"](trainee, "S")
    assert not s["eligible"] and s["missing"][0]["reason"] == "expired"
    assert "has expired" in s["missing"][0]["message"]
    monkeypatch.setattr(clock, "today", lambda: today)

    # Revoked: named as revoked.
    assert client.post(f"/api/v1/certificates/{again.json['serial']}/revoke", headers=p["headers"],
                       json={"reason": "fraud"}).status_code == 200
    s = p["progress"](trainee, "S", lang="fr")
    assert s["missing"][0]["reason"] == "revoked" and "révoqué" in s["missing"][0]["message"]
    assert p["issue"](trainee, p["S"]).json["missing"][0]["reason"] == "revoked"


def test_bulk_issuance_reports_the_missing_prerequisite(client, app, pathway, make_cohort):
    from certificates.bulk import issue_for_cohort

    p = pathway
    trainee = p["make_trainee"]()
    cohort = p["complete"](trainee, p["S"])
    summary = issue_for_cohort(None, cohort)
    assert summary["not_eligible"] == 1
    (person,) = summary["people"]
    assert person["missing"] == [{"type": "prerequisite", "track": "F", "reason": "missing"}]
    assert "F" in person["detail"]


def test_a_module_passed_in_one_track_counts_in_another_over_that_cohorts_sessions(pathway, make_session, client):
    """PB passed in F's cohort with 1 of 2 sessions attended there: in S, PB counts as passed, and its
    attendance is those two sessions, not S's own sessions of PB."""
    p = pathway
    a, b, c = p["modules"]
    trainee = p["make_trainee"]()
    f_cohort = p["complete"](trainee, p["F"])  # PA and PB, one session each, present
    extra = make_session(f_cohort, module=b)
    assert client.put(f"/api/v1/sessions/{extra.id}/attendance", headers=p["headers"], json={
        "records": [{"trainee_id": trainee.id, "status": "absent"}]}).status_code == 200
    p["complete"](trainee, p["S"], modules=[c])  # only PC in S's cohort
    s = p["progress"](trainee, "S")
    assert s["modules_passed"] == [b, c] and s["modules_recognised"] == []
    # PB: 1 of 2 in F's cohort; PC: 1 of 1 in S's cohort. F's PA session is not S's business.
    assert (s["attended"], s["counted"]) == (2, 3)


def test_passed_in_several_cohorts_takes_the_best_attendance(pathway, client, make_session):
    p = pathway
    a, b, c = p["modules"]
    trainee = p["make_trainee"]()
    p["complete"](trainee, p["F"], modules=[b], status="absent")  # PB passed with 0 of 1
    p["complete"](trainee, p["S"], modules=[b, c])  # PB again with 1 of 1
    assert (p["progress"](trainee, "S")["attended"], p["progress"](trainee, "S")["counted"]) == (2, 2)


def test_trainer_scope_leaves_out_other_cohorts(pathway, client, make_user, token_for, admin):
    from skills import operations

    p = pathway
    a, b, c = p["modules"]
    trainee = p["make_trainee"]()
    p["complete"](trainee, p["F"], modules=[b])
    s_cohort = p["complete"](trainee, p["S"], modules=[c])
    trainer = make_user("trainer")
    operations.update_cohort(admin, s_cohort, {"code": s_cohort.code, "track": "S", "sector": "health",
                                               "region": "rabat-sale-kenitra", "language": "fr",
                                               "starts_on": "2026-10-01", "ends_on": "2026-12-20",
                                               "trainers": [trainer.email]})
    db.session.commit()
    (s,) = client.get(f"/api/v1/trainees/{trainee.id}/progress", headers=token_for(trainer)).json["tracks"]
    assert s["modules_passed"] == [c] and (s["attended"], s["counted"]) == (1, 1)


# --- recognitions ------------------------------------------------------------------------------------------

def test_recognitions_api_paths(client, pathway, make_user, token_for, admin):
    p = pathway
    a, b, c = p["modules"]
    trainee = p["make_trainee"]()
    url = f"/api/v1/trainees/{trainee.id}/recognitions"
    headers = p["headers"]
    before = table_counts()
    for body, field in (({"module": "NOPE", "reason": "x"}, "module"), ({"module": a, "reason": "  "}, "reason"),
                        ({"module": a}, "reason"), ({"module": a, "reason": "ok\x00"}, "reason"),
                        ({"module": a, "reason": "ok", "evidence": "bad\x07"}, "evidence"),
                        ({"module": a, "reason": "x" * 501}, "reason")):
        refused = client.post(url, headers=headers, json=body)
        assert refused.status_code == 422 and field in refused.json["errors"], (body, refused.json)
        assert refused.mimetype == "application/problem+json"
    assert table_counts() == before

    created = client.post(url, headers=headers, json={"module": a, "reason": "Master's course", "evidence": "UM5 2024"})
    assert created.status_code == 201
    body = created.json
    assert body["module"] == a and body["in_force"] and body["reason"] == "Master's course"
    twice = client.post(url, headers={**headers, "Accept-Language": "fr"}, json={"module": a, "reason": "again"})
    assert twice.status_code == 422 and "déjà" in twice.json["errors"]["module"][0]

    trainer, holder = make_user("trainer"), make_user("trainee", trainee_id=trainee.id)
    assert client.post(url, headers=token_for(trainer), json={"module": b, "reason": "x"}).status_code == 403
    assert client.get(url, headers=token_for(holder)).status_code == 403
    mine = client.get("/api/v1/me/recognitions", headers=token_for(holder)).json["items"]
    assert [r["id"] for r in mine] == [body["id"]]
    assert client.get("/api/v1/me/recognitions", headers=token_for(trainer)).json["items"] == []
    assert client.get("/api/v1/trainees/999999/recognitions", headers=headers).status_code == 404
    other = p["make_trainee"]()
    assert client.delete(f"/api/v1/trainees/{other.id}/recognitions/{body['id']}", headers=headers).status_code == 404
    assert client.delete(f"{url}/{body['id']}", headers=token_for(trainer)).status_code == 403

    assert client.delete(f"{url}/{body['id']}", headers=headers).status_code == 204
    assert client.delete(f"{url}/{body['id']}", headers=headers).status_code == 409
    (listed,) = client.get(url, headers=headers).json["items"]
    assert not listed["in_force"] and listed["withdrawn_at"]
    # Withdrawn, it can be recorded again.
    assert client.post(url, headers=headers, json={"module": a, "reason": "again"}).status_code == 201

    actions = db.session.execute(sa.select(AuditEntry.action, AuditEntry.target_type, AuditEntry.target_id)
                                 .where(AuditEntry.action.like("recognition.%")).order_by(AuditEntry.seq)).all()
    assert [tuple(r) for r in actions] == [("recognition.record", "trainee", str(trainee.id)),
                                           ("recognition.withdraw", "trainee", str(trainee.id)),
                                           ("recognition.record", "trainee", str(trainee.id))]


def test_a_recognised_module_counts_for_two_tracks_and_withdrawing_drops_it(pathway, client):
    p = pathway
    a, b, c = p["modules"]
    trainee = p["make_trainee"]()
    p["complete"](trainee, p["F"], modules=[a])
    p["complete"](trainee, p["S"], modules=[c])
    assert p["progress"](trainee, "F")["missing"][0] == {"type": "module", "module": b,
                                                         "message": f"Module {b} not yet passed."}
    recognition = client.post(f"/api/v1/trainees/{trainee.id}/recognitions", headers=p["headers"],
                              json={"module": b, "reason": "Prior diploma"}).json
    f = p["progress"](trainee, "F")
    assert f["eligible"] and f["modules_recognised"] == [b] and (f["attended"], f["counted"]) == (1, 1)
    s = p["progress"](trainee, "S")
    assert s["modules_recognised"] == [b] and s["missing"][0]["type"] == "prerequisite"  # PB counts in S too

    # Issued on the recognition: the record says which module was recognised rather than attended.
    issued = p["issue"](trainee, p["F"])
    assert issued.status_code == 201
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == issued.json["serial"]))
    assert [(m["code"], m.get("recognised", False)) for m in certificate.certified["modules"]] == [(a, False), (b, True)]
    assert "builds_on" not in certificate.certified["track"]
    assert p["progress"](trainee, "S")["eligible"]

    # The trained periods are rebuilt when a recognition changes (a stale row is replaced by the truth).
    periods_before = db.session.scalar(sa.select(sa.func.count()).select_from(TrainedPeriod)
                                       .where(TrainedPeriod.trainee_id == trainee.id))
    assert periods_before
    db.session.execute(sa.delete(TrainedPeriod).where(TrainedPeriod.trainee_id == trainee.id))
    db.session.commit()
    assert client.delete(f"/api/v1/trainees/{trainee.id}/recognitions/{recognition['id']}",
                         headers=p["headers"]).status_code == 204
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainedPeriod)
                             .where(TrainedPeriod.trainee_id == trainee.id)) == periods_before
    # Eligibility drops for both tracks; the certificate issued on it stands.
    f = p["progress"](trainee, "F")
    assert not f["eligible"] and f["missing"][0]["module"] == b
    s = p["progress"](trainee, "S")
    assert not s["eligible"] and s["missing"][0]["module"] == b
    assert db.session.get(Certificate, certificate.id).status_on(clock.today()) == "valid"


def test_certificate_states_builds_on_and_recognised_on_the_verification_page(pathway, client, app):
    p = pathway
    a, b, c = p["modules"]
    trainee = p["make_trainee"]()
    p["complete"](trainee, p["F"])
    assert p["issue"](trainee, p["F"]).status_code == 201
    p["complete"](trainee, p["S"], modules=[b])
    client.post(f"/api/v1/trainees/{trainee.id}/recognitions", headers=p["headers"], json={"module": c, "reason": "RPL"})
    issued = p["issue"](trainee, p["S"])
    assert issued.status_code == 201, issued.json
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == issued.json["serial"]))
    assert certificate.certified["track"]["builds_on"] == [
        {"code": "F", "title": {"fr": "Parcours F", "ar": "مسار F", "en": "Track F"}}]
    assert [m.get("recognised", False) for m in certificate.certified["modules"]] == [False, True]

    path = urlsplit(issued.json["verify_url"]).path
    for lang, builds_on, recognised, title in (("en", "Builds on", "recognised prior learning", "Track F"),
                                               ("fr", "S’appuie sur", "acquis antérieurs reconnus", "Parcours F"),
                                               ("ar", "يبني على", "مكتسبات سابقة معترف بها", "مسار F")):
        page = client.get(f"{path}?lang={lang}", headers={"Accept": "text/html"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Set-Cookie" not in page.headers
        assert builds_on in html and recognised in html and title in html, lang
    zgh = client.get(f"{path}?lang=zgh", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Builds on" not in zgh and "recognised prior learning" not in zgh and "Parcours F" in zgh
    public = client.get(path, headers={"Accept": "application/json"}).json
    assert public["builds_on"] == [{"code": "F", "title": {"fr": "Parcours F", "ar": "مسار F", "en": "Track F"}}]
    assert [m["recognised"] for m in public["modules"]] == [False, True]

    # The PDF says it too.
    import pypdfium2 as pdfium
    import unicodedata

    pdf = client.get(issued.json["pdf_url"], headers=p["headers"]).data
    text = unicodedata.normalize("NFKC", pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range())
    # (Extraction orders the words of a line that mixes scripts its own way: look for them one by one.)
    assert "S’appuie sur : Parcours F" in text and "Module PC *" in text, text
    assert all(word in text for word in ("acquis", "antérieurs", "reconnus")), text


def test_older_records_stay_readable():
    from certificates.rules import Certified

    old = {"version": 1, "track": {"code": "T", "title": {"fr": "a", "ar": "b", "en": "c"}, "min_attendance": "0.8"},
           "modules": [{"code": "M", "title": {"fr": "m", "ar": "n", "en": "o"}, "hours": "6"}],
           "total_hours": "6", "issuer": {"fr": "Kafaa"}}
    content = Certified.from_record(old)
    assert content.builds_on == () and not content.modules[0].recognised and not content.any_recognised


def test_recognitions_on_the_pages(client, login, pathway, admin, make_user):
    p = pathway
    a, b, c = p["modules"]
    trainee = p["make_trainee"]()
    p["complete"](trainee, p["F"], modules=[a])
    login(admin)
    page = client.get(f"/trainees/{trainee.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Recognise a module learnt elsewhere" in page
    before = table_counts()
    refused = client.post(f"/trainees/{trainee.id}/recognitions?lang=fr",
                          data={"recognition-module": b, "recognition-reason": "bad\x01"})
    assert refused.status_code in (400, 422) and table_counts() == before
    empty = client.post(f"/trainees/{trainee.id}/recognitions?lang=fr",
                        data={"recognition-module": b, "recognition-reason": ""})
    assert empty.status_code == 422 and table_counts() == before
    assert client.post(f"/trainees/{trainee.id}/recognitions", data={
        "recognition-module": b, "recognition-reason": "Licence", "recognition-evidence": "Diplôme 2021"}).status_code == 302
    recognition = db.session.scalar(sa.select(Recognition).where(Recognition.trainee_id == trainee.id))
    page = client.get(f"/trainees/{trainee.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Licence" in page and "recognised prior learning" in page and "All requirements met" in page
    confirm = client.get(f"/trainees/{trainee.id}/recognitions/{recognition.id}/withdraw")
    assert confirm.status_code == 200 and recognition.module.code in confirm.get_data(as_text=True)
    assert recognition.withdrawn_at is None  # asking is not withdrawing
    assert client.post(f"/trainees/{trainee.id}/recognitions/{recognition.id}/withdraw").status_code == 302
    db.session.refresh(recognition)
    assert recognition.withdrawn_at is not None

    # The trainee sees them on "My progress", without the admin's form.
    login(make_user("trainee", trainee_id=trainee.id))
    mine = client.get("/me/progress", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "Licence" in mine and "Recognise a module learnt elsewhere" not in mine


def test_track_form_has_prerequisites(client, login, admin, make_track):
    foundations = make_track(code="FND")
    login(admin)
    page = client.get("/tracks").get_data(as_text=True)
    assert 'name="requires"' in page
    module = foundations.modules[0].code
    assert client.post("/tracks", data={"code": "SEC", "title_fr": "a", "title_ar": "ب", "title_en": "c",
                                        "modules": [module], "requires": ["FND"], "min_attendance": "80"}
                       ).status_code == 302
    loop = client.post("/tracks/FND/edit", data={"code": "FND", "title_fr": "a", "title_ar": "ب", "title_en": "c",
                                                 "modules": [module], "requires": ["SEC"], "min_attendance": "80"},
                       headers={"Accept-Language": "en"})
    assert loop.status_code == 200 and "would make a cycle" in loop.get_data(as_text=True)


def test_purge_blanks_what_recognitions_say(app, client, pathway, admin, monkeypatch):
    from maintenance.retention import purge

    p = pathway
    trainee = p["make_trainee"]()
    client.post(f"/api/v1/trainees/{trainee.id}/recognitions", headers=p["headers"],
                json={"module": p["modules"][0], "reason": "Studied at UM5", "evidence": "Transcript of Ms X"})
    future = datetime.now(timezone.utc).replace(year=datetime.now(timezone.utc).year + 30)
    purge(future)
    db.session.commit()
    recognition = db.session.scalar(sa.select(Recognition).where(Recognition.trainee_id == trainee.id))
    assert db.session.get(Trainee, trainee.id).purged_at is not None
    assert (recognition.reason, recognition.evidence) == ("", "")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "recognition.record"))
    assert "Studied at UM5" not in str(entry.after)
