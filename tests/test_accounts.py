"""Accounts: sign-in, invitations, the outbox, tokens, languages."""
import re

import sqlalchemy as sa

from accounts.models import ApiToken, OutboxMessage, User
from common.extensions import db
from tests.helpers import PASSWORD, table_counts


def _invitation_link(message: OutboxMessage) -> str:
    return re.search(r"https://kafaa\.test(/invitation/\S+)", message.body).group(1)


def test_admin_invites_a_trainer_who_sets_a_password(client, login, admin):
    login(admin)
    response = client.post("/admin/users", data={"email": "Nadia.Trainer@Example.ma", "role": "trainer"})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "nadia.trainer@example.ma"))
    assert user is not None and user.password_hash is None
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.recipient == "nadia.trainer@example.ma" and message.sent_at is None  # no MAIL_SERVER here
    assert "nadia.trainer@example.ma" in client.get("/admin/outbox").get_data(as_text=True)

    link = _invitation_link(message)
    client.post("/logout")
    assert client.get(link).status_code == 200
    short = client.post(link, data={"password": "short", "confirm": "short"})
    assert "At least 10 characters" in short.get_data(as_text=True) or "au moins 10" in short.get_data(as_text=True)
    differ = client.post(link, data={"password": "a long password 1", "confirm": "another long one"})
    assert differ.status_code == 200
    db.session.refresh(user)
    assert user.password_hash is None  # nothing saved from the refused attempts
    # The privacy notice is part of account creation: without ticking it, nothing is saved.
    unticked = client.post(link, data={"password": "a long password 1", "confirm": "a long password 1"})
    assert unticked.status_code == 200 and "cochez la case" in unticked.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash is None and user.privacy_accepted_at is None
    assert client.post(link, data={"password": "a long password 1", "confirm": "a long password 1",
                                   "accept_privacy": "y"}).status_code == 302
    assert client.get("/cohorts").status_code == 200  # signed in as the trainer
    # The link works once.
    client.post("/logout")
    assert client.get(link).status_code == 400
    assert client.post("/login", data={"email": user.email, "password": "a long password 1"}).status_code == 302


def test_forged_and_expired_invitations_are_refused(client, app, make_user):
    from accounts.operations import invitation_token

    user = make_user("trainee")
    assert client.get("/invitation/forged-token").status_code == 400
    token = invitation_token(user)
    app.config["INVITATION_MAX_AGE_DAYS"] = -1
    assert client.get(f"/invitation/{token}").status_code == 400


def test_login_refuses_wrong_password_without_saying_which_part_was_wrong(client, admin):
    wrong = client.post("/login", data={"email": admin.email, "password": "nope nope nope"})
    unknown = client.post("/login", data={"email": "ghost@example.ma", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 422
    assert client.get("/admin/users").status_code == 302  # still anonymous


def test_login_redirects_only_to_local_paths(client, admin):
    response = client.post("/login?next=https://evil.example/", data={"email": admin.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    response = client.post("/logout")
    response = client.post("/login?next=/modules", data={"email": admin.email, "password": PASSWORD})
    assert response.headers["Location"] == "/modules"


def test_inactive_accounts_cannot_sign_in_or_use_tokens(client, admin, token_for):
    headers = token_for(admin)
    admin.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 422


def test_tokens_are_stored_hashed(client, admin, token_for):
    headers = token_for(admin)
    raw = headers["Authorization"].split()[1]
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).one()
    assert raw not in stored and len(stored) == 64
    assert client.get("/api/v1/me", headers=headers).json["email"] == admin.email


def test_users_create_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "boss@kafaa.ma", "--role", "admin", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "boss@kafaa.ma", "--role", "admin", "--password", PASSWORD])
    assert result.exit_code != 0 and "email: " in result.output and "boss@kafaa.ma" in result.output
    before = table_counts()
    result = runner.invoke(args=["users", "create", "x@kafaa.ma", "--role", "trainer", "--trainee-id", "99"])
    assert result.exit_code != 0 and "trainee_id" in result.output
    assert table_counts() == before
    result = runner.invoke(args=["users", "create", "new@kafaa.ma", "--role", "trainer"])
    assert result.exit_code == 0 and "/invitation/" in result.output


def test_trainee_account_links_to_its_record(app, make_trainee):
    trainee = make_trainee()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "me@example.ma", "--role", "trainee", "--password", PASSWORD,
                                 "--trainee-id", str(trainee.id)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["users", "create", "me2@example.ma", "--role", "trainee", "--trainee-id",
                                str(trainee.id)])
    assert again.exit_code != 0 and "trainee_id: " in again.output


def test_language_choice_is_remembered_per_account(client, login, admin):
    login(admin)
    assert 'lang="fr" dir="ltr"' in client.get("/modules").get_data(as_text=True)
    client.post("/language", data={"lang": "ar", "next": "/modules"})
    db.session.refresh(admin)
    assert admin.locale == "ar"
    assert 'lang="ar" dir="rtl"' in client.get("/modules").get_data(as_text=True)
    client.post("/logout")
    login(admin)
    assert 'lang="ar" dir="rtl"' in client.get("/modules").get_data(as_text=True)


def test_first_visit_follows_the_browser(client):
    page = client.get("/login", headers={"Accept-Language": "ar-MA,ar;q=0.9"}).get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page
