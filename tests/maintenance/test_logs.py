"""Logs carry no names, emails or tokens: the flows that handle them run with every logger at DEBUG, and
not one of them shows up in a log line or a traceback."""
from __future__ import annotations

import io
import logging
import secrets

import sqlalchemy as sa

from accounts import operations as accounts
from common.extensions import db
from common.logs import redact
from skills.models import Trainee
from tests.helpers import PASSWORD

NAME, NAME_AR, EMAIL = "Khadija Ait Taleb", "خديجة آيت الطالب", "khadija.aittaleb@sante.gov.ma"


def test_flows_log_no_name_email_or_token(app, client, caplog, certified, token_for, admin, monkeypatch):
    app.config["PROPAGATE_UNEXPECTED"] = False  # an unexpected error is logged and answered, as in production

    def duplicate_trainee():  # a real database error whose statement holds a name and an email
        db.session.execute(sa.insert(Trainee).values(name=NAME, name_ar=NAME_AR, email=EMAIL, category="engineer",
                                                     sector="health", region="oriental", employer="x"))
        db.session.execute(sa.insert(Trainee).values(name=NAME, name_ar=NAME_AR, email=EMAIL, category="engineer",
                                                     sector="health", region="oriental", employer="x"))
    monkeypatch.setitem(app.view_functions, "health.healthz", duplicate_trainee)
    caplog.set_level(logging.DEBUG)

    programme = certified(size=2, certified=1, name=NAME, name_ar=NAME_AR)
    secrets_seen = [NAME, NAME_AR, PASSWORD, *(t.email for t in programme.trainees),
                    programme.certificates[0].token]
    # Invitation: mailed (to the outbox) and opened.
    user = accounts.create_user(None, EMAIL, "trainee")
    link = accounts.invite(None, user)
    db.session.commit()
    invitation = link.rsplit("/", 1)[1]
    assert client.get(f"/invitation/{invitation}").status_code == 200
    # Sign-in failures, an API token, a search by name.
    client.post("/login", data={"email": EMAIL, "password": "wrong password here"})
    client.post("/api/v1/tokens", json={"email": EMAIL, "password": "wrong password here"})
    headers = token_for(admin)
    client.get(f"/api/v1/trainees?q={NAME}", headers=headers)
    # An import with a bad row naming someone.
    content = ("name,email,category,sector,region,name_ar,name_tfng,gender,employer\r\n"
               f"{NAME},{EMAIL}x,engineer,health,nowhere,{NAME_AR},,f,Ministère\r\n").encode()
    client.post("/api/v1/imports/trainees", headers=headers, content_type="multipart/form-data",
                data={"file": (io.BytesIO(content), "people.csv"), "dry_run": "false"})
    # Verification by QR code, an unknown token, and an unexpected error.
    client.get(f"/v/{programme.certificates[0].token}", headers={"Accept": "application/json"})
    client.get(f"/v/{secrets.token_urlsafe(40)}")
    assert client.get("/healthz").status_code == 500
    # Access lines as the development server and Gunicorn write them.
    logging.getLogger("werkzeug").info('%s - - [%s] "%s" %s %s', "127.0.0.1", "26/Nov/2026 10:00:00",
                                       f"GET /invitation/{invitation}?next=/me HTTP/1.1", 200, "-")
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s "%(f)s"', {
        "h": "127.0.0.1", "r": f"GET /v/{programme.certificates[0].token} HTTP/1.1", "s": "200",
        "f": f"https://kafaa.test/trainees?q={NAME}"})
    logging.getLogger("kafaa.test").info("Authorization: %s", headers["Authorization"])

    secrets_seen += [EMAIL, invitation, headers["Authorization"].split()[1]]
    assert any(r.exc_text for r in caplog.records), "the unexpected error was logged with its traceback"
    assert any("/v/[token]" in r.getMessage() for r in caplog.records)
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    for secret in secrets_seen:
        assert secret not in logged, secret


def test_redaction_keeps_what_helps_and_masks_what_identifies():
    line = redact('GET /cohorts/SANTE-01/sessions/4 "https://kafaa.ma/checkin/4/829301" me@x.ma Bearer a.b')
    assert line == 'GET /cohorts/SANTE-01/sessions/4 "https://kafaa.ma/checkin/4/[token]" [email] Bearer [token]'
    assert redact("in test_purge_anonymises_expired_people_and_keeps_every_figure") == \
        "in test_purge_anonymises_expired_people_and_keeps_every_figure"
