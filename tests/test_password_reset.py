"""Self-service password reset: "Forgot your password?" mails a single-use link valid an hour at most, through
the outbox. The answer never tells whether an account uses the address; requests are throttled per address
asked about and per visitor; using the link ends every other session and API token of the account."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import OutboxMessage, PasswordReset, User
from audit.models import AuditEntry
from common.extensions import db
from common.types import utcnow
from tests.helpers import PASSWORD, table_counts

NEW_PASSWORD = "a brand new passphrase"


def _mails(to: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == to)
                                   .order_by(OutboxMessage.id)))


def _link(message: OutboxMessage) -> str:
    return re.search(r"https://kafaa\.test(/password/reset/\S+)", message.body).group(1)


def _ask(client, email: str, lang: str = "fr"):
    return client.post(f"/password/forgot?lang={lang}", data={"email": email})


def _reset_link(client, user) -> str:
    assert _ask(client, user.email).status_code == 200
    return _link(_mails(user.email)[-1])


def test_sign_in_page_leads_to_the_reset_form(client):
    page = client.get("/login?lang=fr").get_data(as_text=True)
    assert 'href="/password/forgot"' in page and "Mot de passe oublié\u202f?" in page
    assert client.get("/password/forgot?lang=fr").status_code == 200


def test_known_unknown_and_disabled_addresses_get_the_same_answer(client, make_user):
    known = make_user("trainer", "known@example.ma")
    disabled = make_user("trainer", "disabled@example.ma")
    disabled.active = False
    db.session.commit()
    answers = [_ask(client, email) for email in ("known@example.ma", "nobody@example.ma", "disabled@example.ma",
                                                 " KNOWN@example.ma ")]
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1  # byte for byte the same page
    assert len({tuple(sorted((k, v) for k, v in a.headers.items() if k != "Set-Cookie")) for a in answers}) == 1
    assert "Si un compte actif utilise cette adresse" in answers[0].get_data(as_text=True)
    # Only the existing, active account got a mail (two: the address is matched whatever its case).
    assert len(_mails(known.email)) == 2
    assert _mails("nobody@example.ma") == [] and _mails(disabled.email) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 2


def test_the_link_works_once_and_ends_every_other_session_and_token(client, app, make_user, token_for):
    user = make_user("admin", "forgetful@example.ma")
    headers = token_for(user)
    other = app.test_client()  # the account signed in elsewhere (a lost laptop)
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert other.get("/modules").status_code == 200

    link = _reset_link(client, user)
    form = client.get(link)
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    done = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")

    assert client.get("/api/v1/me", headers=headers).status_code == 401  # the token is revoked
    assert other.get("/modules").status_code == 302  # the other session is over
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 422
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302

    # Used: a second visit or a second post says so, and changes nothing.
    fresh = app.test_client()
    for response in (fresh.get(f"{link}?lang=fr"),
                     fresh.post(f"{link}?lang=fr", data={"password": "yet another passphrase",
                                                         "confirm": "yet another passphrase"})):
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "Lien utilisé ou expiré" in page and 'href="/password/forgot"' in page
    assert fresh.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_the_link_expires_after_an_hour_at_most(client, app, make_user):
    user = make_user("trainer")
    app.config["PASSWORD_RESET_MINUTES"] = 24 * 60  # asked for a day: an hour is the most a link gets
    link = _reset_link(client, user)
    reset = db.session.scalars(sa.select(PasswordReset)).one()
    assert reset.expires_at - reset.created_at <= timedelta(hours=1)
    assert "60 minutes" in _mails(user.email)[-1].body
    reset.expires_at = utcnow() - timedelta(seconds=1)  # an hour later
    db.session.commit()
    assert client.get(link).status_code == 400
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    db.session.expire_all()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_a_new_password_kills_every_other_pending_link(client, make_user):
    user = make_user("trainer")
    first, second = _reset_link(client, user), _reset_link(client, user)
    assert client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.get(first).status_code == 400


def test_forged_links_and_bad_passwords_are_refused_and_save_nothing(client, make_user):
    user = make_user("trainer")
    assert client.get("/password/reset/not-a-real-token").status_code == 400
    assert client.get("/password/reset/" + "x" * 300).status_code == 400
    link = _reset_link(client, user)
    before = table_counts()
    for data, field in (({"password": "short", "confirm": "short"}, "Utilisez au moins 10 caractères"),
                        ({"password": NEW_PASSWORD, "confirm": "something else"}, "Les deux mots de passe ne sont pas identiques"),
                        ({"password": "", "confirm": ""}, None)):
        response = client.post(f"{link}?lang=fr", data=data)
        assert response.status_code == 422, data
        if field:
            assert field in response.get_data(as_text=True)
    assert table_counts() == before
    assert client.get(link).status_code == 200  # still usable


def test_a_malformed_address_is_a_clear_error_and_sends_nothing(client):
    response = _ask(client, "not-an-address")
    assert response.status_code == 422 and "adresse" in response.get_data(as_text=True)
    assert _ask(client, "").status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_nul_bytes_are_refused_not_a_500(client, make_user):
    user = make_user("trainer")
    assert client.post("/password/forgot", data={"email": "a\x00@example.ma"}).status_code == 422
    link = _reset_link(client, user)
    assert client.get("/password/reset/abc%00def").status_code == 404  # a path naming nothing
    response = client.post(link, data={"password": "pass\x00word-long", "confirm": "pass\x00word-long"})
    assert response.status_code == 422
    assert client.get(link).status_code == 200  # nothing was used up


def test_requests_are_throttled_per_address_and_per_visitor_alike_for_unknown_ones(client, make_user):
    make_user("trainer", "target@example.ma")
    for email in ("target@example.ma", "ghost@example.ma"):
        assert [_ask(client, email).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert len(_mails("target@example.ma")) == 3  # the mailbox is not flooded
    refused = _ask(client, "ghost@example.ma", lang="ar")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "طلبات كثيرة" in refused.get_data(as_text=True)
    assert "Trop de demandes" in _ask(client, "target@example.ma").get_data(as_text=True)
    # Per visitor: 10 an hour, whichever addresses (4 + 2 refused above did not count).
    statuses = [_ask(client, f"someone{n}@example.ma").status_code for n in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    other_visitor = client.post("/password/forgot", data={"email": "someone9@example.ma"},
                                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other_visitor.status_code == 200


@pytest.mark.parametrize("lang, title, mail_words", [
    ("fr", "Mot de passe oublié\u202f?", "Choisissez un nouveau mot de passe"),
    ("ar", "نسيت كلمة المرور؟", "اختر كلمة مرور جديدة"),
])
def test_pages_and_mail_in_the_readers_language(client, make_user, lang, title, mail_words):
    user = make_user("trainer")
    assert title in client.get(f"/password/forgot?lang={lang}").get_data(as_text=True)
    assert _ask(client, user.email, lang=lang).status_code == 200
    message = _mails(user.email)[-1]
    assert mail_words in message.subject
    link = _link(message)
    page = client.get(f"{link}?lang={lang}").get_data(as_text=True)
    assert ('dir="rtl"' in page) == (lang == "ar")


def test_audited_without_the_token(client, make_user):
    user = make_user("trainer")
    link = _reset_link(client, user)
    client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.target_id == str(user.id))
                                 .order_by(AuditEntry.seq)).all()
    actions = [e.action for e in entries]
    assert actions[-2:] == ["user.password_reset_request", "user.password_reset"]
    token = link.rsplit("/", 1)[1]
    assert all(token not in json.dumps([e.before, e.after]) for e in entries)
    assert token not in json.dumps([r.token_hash for r in db.session.scalars(sa.select(PasswordReset))])
    assert db.session.get(User, user.id).password_hash is not None


def test_the_outbox_hides_reset_links_from_admins_when_mail_really_leaves(client, app, login, admin, make_user):
    user = make_user("trainer")
    link = _reset_link(client, user)
    login(admin)
    assert link in client.get("/admin/outbox").get_data(as_text=True)  # no mail server: the only mailbox
    app.config["MAIL_SERVER"] = "mail.invalid"  # (the message is already in the outbox; nothing is sent)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert link not in page and "/password/reset/…" in page
