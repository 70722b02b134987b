"""Mail to the holder (the trainee record's address) when a certificate is issued, reissued or revoked:
written to the outbox with what it tells, so a refused or rolled-back act sends nothing and each act is told
once; in the holder's language when their account has one, else French and Arabic; never to a purged holder.
The holder sees the revocation's date, the message worded for them and a contact; admins the internal reason."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from accounts.models import OutboxMessage
from certificates import operations
from certificates.models import Certificate
from common.extensions import db
from common.types import utcnow
from skills import operations as skills
from tests.helpers import table_counts
from tests.test_mail_outbox import smtp  # noqa: F401 - the loopback SMTP server fixture

FR_NEUTRAL = "Le programme a retiré ce certificat."
AR_NEUTRAL = "سحب البرنامج هذه الشهادة."


@pytest.fixture
def eligible(admin, make_track, make_trainee, make_cohort):
    """Trainees who passed every module of one track (no attendance minimum), in one cohort."""
    track = make_track(min_attendance=0)

    def make(count: int = 1, **fields):
        trainees = [make_trainee(**fields) for _ in range(count)]
        cohort = make_cohort(track=track, trainees=trainees)
        skills.record_results(admin, cohort, [{"trainee_id": t.id, "module": m.code, "passed": True}
                                              for t in trainees for m in track.modules])
        db.session.commit()
        return trainees, track, cohort
    return make


def _mails(to: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == to)
                                   .order_by(OutboxMessage.id)))


def _issue(client, headers, trainee, track):
    return client.post("/api/v1/certificates", headers=headers, json={"trainee_id": trainee.id, "track": track.code})


def test_issue_mails_the_holder_once_with_the_verification_link(client, admin, token_for, eligible):
    (trainee,), track, _ = eligible()
    headers = token_for(admin)
    assert _issue(client, headers, trainee, track).status_code == 201
    assert _issue(client, headers, trainee, track).status_code == 200  # already held: nothing new to tell
    (mail,) = _mails(trainee.email)
    certificate = db.session.scalars(sa.select(Certificate)).one()
    assert f"https://kafaa.test/v/{certificate.token}" in mail.body
    assert certificate.serial in mail.body and certificate.verification_code in mail.body
    assert "https://kafaa.test/me/certificates" in mail.body
    # No account, so no known language: French, then Arabic, in one mail.
    assert mail.subject == "Votre certificat Kafaa / شهادتك من كفاءة"
    french, arabic = mail.body.split("— — —")
    assert "Bonjour \u2068" + trainee.name in french and "a été délivré le" in french
    assert trainee.name_ar in arabic and "صدرت شهادتك" in arabic


@pytest.mark.parametrize("locale, present, absent", [("ar", "صدرت شهادتك", "a été délivré"),
                                                    ("fr", "a été délivré", "صدرت شهادتك")])
def test_mail_in_the_language_of_the_holders_account(client, admin, token_for, eligible, make_user,
                                                     locale, present, absent):
    (trainee,), track, _ = eligible()
    user = make_user("trainee", trainee_id=trainee.id)
    user.locale = locale
    db.session.commit()
    assert _issue(client, token_for(admin), trainee, track).status_code == 201
    (mail,) = _mails(trainee.email)
    assert present in mail.body and absent not in mail.body and "— — —" not in mail.body
    assert user.email != trainee.email and _mails(user.email) == []  # the record's address, the holder's own


def test_revocation_tells_the_holder_the_date_the_message_and_a_contact_never_the_reason(
        client, app, login, admin, eligible, make_user):
    (trainee,), track, _ = eligible()
    certificate, _ = operations.issue_certificate(admin, trainee, track)
    db.session.commit()
    app.config["CONTACT_EMAIL"] = "aide@kafaa.ma"
    login(admin)
    page = client.get(f"/certificates/{certificate.serial}/revoke?lang=fr").get_data(as_text=True)
    assert "Message au titulaire" in page and FR_NEUTRAL in page
    response = client.post(f"/certificates/{certificate.serial}/revoke", data={
        "reason": "Fraude aux présences signalée par le formateur",
        "message": "Votre présence n'a pas pu être confirmée pour deux séances."})
    assert response.status_code == 302
    issued, revoked = _mails(trainee.email)
    assert "Votre présence n'a pas pu être confirmée pour deux séances." in revoked.body
    assert "Fraude" not in revoked.body and "aide@kafaa.ma" in revoked.body and certificate.serial in revoked.body
    assert "révoqué le" in revoked.body and "ألغيت" in revoked.body

    # Again, at once or later: refused, and no second mail.
    again = client.post(f"/certificates/{certificate.serial}/revoke", data={"reason": "again"})
    assert again.status_code == 302 and len(_mails(trainee.email)) == 2

    # The admin's page of the trainee shows the internal reason and what the holder was told.
    admin_page = client.get(f"/trainees/{trainee.id}?lang=fr").get_data(as_text=True)
    assert "Fraude aux présences signalée par le formateur" in admin_page
    # The holder's "My certificates": the date, the message, the contact; never the internal reason.
    holder = make_user("trainee", trainee_id=trainee.id)
    login(holder)
    mine = client.get("/me/certificates?lang=fr").get_data(as_text=True)
    assert "Révoqué le" in mine and "Votre présence n&#39;a pas pu être confirmée" in mine
    assert 'href="mailto:aide@kafaa.ma"' in mine and "Fraude" not in mine
    assert "ألغيت في" in client.get("/me/certificates?lang=ar").get_data(as_text=True)
    own_page = client.get(f"/trainees/{trainee.id}?lang=fr").get_data(as_text=True)
    assert "Fraude" not in own_page


def test_without_a_message_the_holder_reads_a_neutral_wording(client, admin, token_for, eligible, make_user):
    (trainee,), track, _ = eligible()
    certificate, _ = operations.issue_certificate(admin, trainee, track)
    db.session.commit()
    headers = token_for(admin)
    response = client.post(f"/api/v1/certificates/{certificate.serial}/revoke", headers=headers,
                           json={"reason": "Erreur de saisie des résultats"})
    assert response.status_code == 200
    assert response.json["revocation_reason"] == "Erreur de saisie des résultats"
    revoked = _mails(trainee.email)[-1]
    assert FR_NEUTRAL in revoked.body and AR_NEUTRAL in revoked.body and "Erreur" not in revoked.body
    # The holder's own API: the message, not the internal reason.
    holder = make_user("trainee", trainee_id=trainee.id)
    mine = client.get("/api/v1/me/certificates?lang=fr", headers=token_for(holder)).json["items"][0]
    assert mine["revocation_reason"] is None and mine["revocation_message"].startswith(FR_NEUTRAL)
    own = client.get(f"/api/v1/certificates/{certificate.serial}", headers=token_for(holder)).json
    assert own["revocation_reason"] is None
    assert client.get(f"/api/v1/certificates/{certificate.serial}", headers=headers).json[
        "revocation_reason"] == "Erreur de saisie des résultats"


def test_a_refused_revocation_sends_and_saves_nothing(client, admin, token_for, eligible):
    (trainee,), track, _ = eligible()
    certificate, _ = operations.issue_certificate(admin, trainee, track)
    db.session.commit()
    headers = token_for(admin)
    before = table_counts()
    for body in ({"reason": "ok", "message": "x" * 501}, {"reason": "ok", "message": "a\x00b"},
                 {"reason": "", "message": "Bonjour"}, {"reason": "ok", "message": 12}):
        response = client.post(f"/api/v1/certificates/{certificate.serial}/revoke", headers=headers, json=body)
        assert response.status_code == 422, body
        assert response.headers["Content-Type"] == "application/problem+json"
    assert table_counts() == before


def test_no_mail_when_the_transaction_rolls_back(app, admin, eligible):
    (trainee,), track, _ = eligible()
    operations.issue_certificate(admin, trainee, track)
    db.session.rollback()
    certificate, _ = operations.issue_certificate(admin, trainee, track)
    db.session.commit()
    operations.revoke_certificate(admin, certificate, "reason", "message")
    db.session.rollback()
    assert len(_mails(trainee.email)) == 1  # only the issue that committed


def test_reissue_mails_the_new_serial_and_link(client, admin, token_for, eligible):
    (trainee,), track, _ = eligible()
    certificate, _ = operations.issue_certificate(admin, trainee, track)
    db.session.commit()
    response = client.post(f"/api/v1/certificates/{certificate.serial}/reissue", headers=token_for(admin))
    assert response.status_code == 201
    new = db.session.scalar(sa.select(Certificate).where(Certificate.serial == response.json["serial"]))
    reissued = _mails(trainee.email)[-1]
    assert reissued.subject == "Votre certificat Kafaa a été délivré à nouveau / أعيد إصدار شهادتك من كفاءة"
    assert new.serial in reissued.body and certificate.serial in reissued.body
    assert f"https://kafaa.test/v/{new.token}" in reissued.body
    # A second reissue of the old one is refused: still two mails.
    assert client.post(f"/api/v1/certificates/{certificate.serial}/reissue", headers=token_for(admin)).status_code == 409
    assert len(_mails(trainee.email)) == 2


def test_a_corrections_reissue_is_told_by_the_corrections_own_mail(client, admin, token_for, eligible, make_user):
    (trainee,), track, _ = eligible()
    operations.issue_certificate(admin, trainee, track)
    db.session.commit()
    user = make_user("trainee", trainee_id=trainee.id)
    asked = client.post("/api/v1/me/corrections", headers=token_for(user), json={"field": "name", "value": "Nouveau Nom"})
    assert asked.status_code == 201
    approved = client.post(f"/api/v1/corrections/{asked.json['id']}/approve", headers=token_for(admin), json={})
    assert approved.status_code == 200 and len(approved.json["reissued"]) == 1
    assert len(_mails(trainee.email)) == 1 and len(_mails(user.email)) == 1  # the issue; the decision


def test_a_purged_holder_gets_nothing(admin, eligible):
    (trainee,), track, _ = eligible()
    certificate, _ = operations.issue_certificate(admin, trainee, track)
    db.session.commit()
    trainee.purged_at = utcnow()
    db.session.commit()
    operations.revoke_certificate(admin, certificate, "reason")
    db.session.commit()
    assert len(_mails(trainee.email)) == 1  # the issue, before the purge


def test_bulk_issuance_queues_one_mail_each_and_hands_them_over_once_at_the_end(app, admin, eligible, smtp, monkeypatch):
    from accounts import mail
    from certificates.bulk import issue_for_cohort

    smtp.failing = False
    trainees, track, cohort = eligible(3)
    handed: list[list[int]] = []
    real = mail.hand_over
    monkeypatch.setattr(mail, "hand_over", lambda ids: (handed.append(list(ids)), real(ids)))
    summary = issue_for_cohort(admin, cohort)
    assert summary["issued"] == 3
    assert len(handed) == 1 and len(handed[0]) == 3  # one hand-over for the run, not one per person
    assert sorted(re.search(r"To: (\S+)", m).group(1) for m in smtp.received) == sorted(t.email for t in trainees)
    assert issue_for_cohort(admin, cohort)["already_held"] == 3
    assert len(smtp.received) == 3  # nobody is told twice



def test_bulk_issuance_holds_one_person_at_a_time_whatever_the_cohort_size(admin, eligible):
    """Each person is committed at their turn, and a commit expires every object the session holds: a roster
    loaded whole would be expired again at every person's commit, a cost growing with the square of the
    cohort. The run keeps only the person being issued."""
    import gc

    from accounts.models import User
    from certificates.bulk import issue_for_cohort
    from skills.models import Cohort, Trainee

    trainees, _, cohort = eligible(6)
    people, admin_id, cohort_id = len(trainees), admin.id, cohort.id
    db.session.expunge_all()  # the fixture's own trainees are not the run's
    held: list[int] = []

    def progress(_done: int, _total: int) -> None:
        gc.collect()  # the weakly referenced identity map forgets the people no longer referenced
        held.append(sum(isinstance(obj, Trainee) for obj in db.session.identity_map.values()))

    summary = issue_for_cohort(db.session.get(User, admin_id), db.session.get(Cohort, cohort_id), progress)
    assert summary["issued"] == people == len(held)
    assert max(held) == 1, held


def test_a_failure_in_a_bulk_run_undoes_that_person_only_and_the_run_goes_on(app, admin, eligible, monkeypatch):
    """The second person's issue fails after their certificate, audit entry and counts were written (at the
    mail): all of it is undone, serial included, and the others are issued."""
    from certificates import notifications
    from certificates.bulk import issue_for_cohort
    from certificates.models import SerialCounter
    from governance.models import TrainedPeriod

    trainees, _, cohort = eligible(3)
    roster_order = sorted(trainees, key=lambda t: (t.name, t.id))
    failing = roster_order[1].id
    real = notifications.issued

    def issued(certificate, replaced=None):
        if certificate.trainee_id == failing:
            raise RuntimeError("the mail could not be written")
        real(certificate, replaced)

    monkeypatch.setattr(notifications, "issued", issued)
    before = table_counts()
    summary = issue_for_cohort(admin, cohort)
    assert (summary["issued"], summary["failed"]) == (2, 1)
    (person,) = summary["people"]
    assert person["trainee_id"] == failing and person["detail"] == "the mail could not be written"
    after = table_counts()
    for table in ("certificates", "certificate_files", "audit_entries", "outbox_messages"):
        assert after[table] - before[table] == 2, table
    db.session.expire_all()
    held = db.session.scalars(sa.select(Certificate.trainee_id)).all()
    assert sorted(held) == sorted(t.id for t in trainees if t.id != failing)
    assert failing not in db.session.scalars(sa.select(TrainedPeriod.trainee_id)).all()
    serials = db.session.scalars(sa.select(Certificate.serial).order_by(Certificate.serial)).all()
    assert [int(s.rsplit("-", 1)[1]) for s in serials] == [1, 2]  # the failed person's number was given back
    assert db.session.scalar(sa.select(SerialCounter.last)) == 2
