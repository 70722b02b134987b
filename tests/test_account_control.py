"""Taking access back: revoking tokens, signing an account out everywhere, disabling it, and a new password
ending every other session and token. Every act is audited; the destructive ones are confirmed in the UI."""
from __future__ import annotations

import re

import sqlalchemy as sa
from click.testing import CliRunner

from accounts.models import ApiToken, OutboxMessage, User
from audit.models import AuditEntry
from common.extensions import db
from tests.helpers import PASSWORD


def _actions(target_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.target_type == "user", AuditEntry.target_id == str(target_id)).order_by(AuditEntry.seq)))


def _web_client(app, user):
    """Another browser, signed in through the real form."""
    other = app.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert other.get("/cohorts").status_code == 200
    return other


def test_a_token_revokes_itself(client, make_user, token_for):
    trainer = make_user("trainer")
    first, second = token_for(trainer), token_for(trainer)
    assert client.delete("/api/v1/tokens/current", headers=first).status_code == 204
    assert client.get("/api/v1/me", headers=first).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 200  # only the calling token
    assert client.delete("/api/v1/tokens/current").status_code == 401
    assert "token.revoke" in _actions(trainer.id)


def test_admins_list_and_revoke_a_users_tokens_through_the_api(client, admin, make_user, token_for):
    trainer = make_user("trainer")
    stolen, kept, mine = token_for(trainer), token_for(trainer), token_for(admin)
    listed = client.get(f"/api/v1/users/{trainer.id}/tokens", headers=mine)
    assert listed.status_code == 200 and len(listed.json["items"]) == 2
    assert set(listed.json["items"][0]) == {"id", "created_at", "expires_at"}  # never the token itself
    assert client.get(f"/api/v1/users/{trainer.id}/tokens", headers=kept).status_code == 403
    stolen_id = min(item["id"] for item in listed.json["items"])  # issued first
    # A token id of another account is not found under this one.
    assert client.delete(f"/api/v1/users/{admin.id}/tokens/{stolen_id}", headers=mine).status_code == 404
    assert client.delete(f"/api/v1/users/{trainer.id}/tokens/{stolen_id}", headers=mine).status_code == 204
    assert client.get("/api/v1/me", headers=stolen).status_code == 401
    assert client.get("/api/v1/me", headers=kept).status_code == 200
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "token.revoke")).one()
    assert entry.actor_id == admin.id and entry.before == {"token_id": stolen_id}


def test_sign_out_everywhere_ends_sessions_and_tokens(app, client, admin, make_user, token_for):
    trainer = make_user("trainer")
    browser, token, mine = _web_client(app, trainer), token_for(trainer), token_for(admin)
    answer = client.post(f"/api/v1/users/{trainer.id}/sign-out", headers=mine)
    assert answer.status_code == 200 and answer.json == {"tokens_revoked": 1}
    assert browser.get("/cohorts").status_code == 302  # back to the sign-in page
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert "user.sign_out_everywhere" in _actions(trainer.id)
    # The account itself still works: a fresh sign-in is fine.
    assert _web_client(app, trainer)


def test_disable_and_enable_through_the_api(app, client, admin, make_user, token_for):
    trainer = make_user("trainer")
    browser, token, mine = _web_client(app, trainer), token_for(trainer), token_for(admin)
    disabled = client.post(f"/api/v1/users/{trainer.id}/disable", headers=mine)
    assert disabled.status_code == 200 and disabled.json["active"] is False
    # Sessions and tokens stop at their next request; signing in again is refused.
    assert browser.get("/cohorts").status_code == 302
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert client.post("/api/v1/tokens", json={"email": trainer.email, "password": PASSWORD}).status_code == 401
    # An admin cannot lock themself out.
    refused = client.post(f"/api/v1/users/{admin.id}/disable", headers=mine)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    enabled = client.post(f"/api/v1/users/{trainer.id}/enable", headers=mine)
    assert enabled.status_code == 200 and enabled.json["active"] is True
    assert client.get("/api/v1/me", headers=token).status_code == 401  # ended tokens stay ended
    assert client.post("/api/v1/tokens", json={"email": trainer.email, "password": PASSWORD}).status_code == 201
    assert _actions(trainer.id)[-2:] == ["user.disable", "user.enable"]


def test_disable_and_enable_from_the_command_line(app, make_user, token_for, client):
    trainer = make_user("trainer")
    token = token_for(trainer)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "disable", trainer.email.upper()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, trainer.id).active is False
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert runner.invoke(args=["users", "enable", trainer.email]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, trainer.id).active is True
    unknown = runner.invoke(args=["users", "disable", "nobody@example.ma"])
    assert unknown.exit_code != 0 and "No account" in unknown.output
    assert _actions(trainer.id)[-2:] == ["user.disable", "user.enable"]
    assert isinstance(runner, CliRunner)


def test_the_admin_page_confirms_before_ending_anything(app, client, login, admin, make_user, token_for):
    trainer = make_user("trainer")
    browser, token = _web_client(app, trainer), token_for(trainer)
    token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == trainer.id))
    login(admin)
    page = client.get(f"/admin/users/{trainer.id}").get_data(as_text=True)
    assert f"/admin/users/{trainer.id}/tokens/{token_id}/revoke" in page and "/sign-out" in page
    assert f"/admin/users/{trainer.id}" in client.get("/admin/users").get_data(as_text=True)
    # Each destructive act first asks (GET shows the question, changes nothing).
    for path in (f"/admin/users/{trainer.id}/tokens/{token_id}/revoke", f"/admin/users/{trainer.id}/sign-out",
                 f"/admin/users/{trainer.id}/disable"):
        question = client.get(path)
        assert question.status_code == 200 and "Veuillez confirmer" in question.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=token).status_code == 200 and browser.get("/cohorts").status_code == 200
    assert client.post(f"/admin/users/{trainer.id}/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert browser.get("/cohorts").status_code == 200  # revoking a token leaves the sessions
    assert client.post(f"/admin/users/{trainer.id}/sign-out").status_code == 302
    assert browser.get("/cohorts").status_code == 302
    assert client.post(f"/admin/users/{trainer.id}/disable").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, trainer.id).active is False
    assert "désactivé" in client.get(f"/admin/users/{trainer.id}").get_data(as_text=True)
    assert client.post(f"/admin/users/{trainer.id}/enable").status_code == 302
    # Disabling oneself is refused with a message, and nothing changes.
    client.post(f"/admin/users/{admin.id}/disable")
    db.session.expire_all()
    assert db.session.get(User, admin.id).active is True
    assert _actions(trainer.id)[-4:] == ["token.revoke", "user.sign_out_everywhere", "user.disable", "user.enable"]


def test_a_new_password_ends_every_other_session_and_token(app, client, login, admin, make_user, token_for):
    """The reset path (an admin sends a new invitation link): whoever had the old password, a copied
    cookie or a token is out; the person who set it is signed in afresh."""
    trainer = make_user("trainer")
    old_browser, old_token = _web_client(app, trainer), token_for(trainer)
    login(admin)
    assert client.post(f"/admin/users/{trainer.id}/invite").status_code == 302
    client.post("/logout")
    message = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    link = re.search(r"https://kafaa\.test(/invitation/\S+)", message.body).group(1)
    new_browser = app.test_client()
    assert new_browser.post(link, data={"password": "a brand new password", "confirm": "a brand new password",
                                        "accept_privacy": "y"}).status_code == 302
    assert new_browser.get("/cohorts").status_code == 200
    assert old_browser.get("/cohorts").status_code == 302
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "user.password")).one()
    assert entry.after == {"tokens_revoked": 1}


def test_set_password_operation_ends_sessions_and_tokens(app, client, make_user, token_for):
    """Every path that sets a password goes through the same operation."""
    from accounts import operations

    trainer = make_user("trainer")
    browser, token = _web_client(app, trainer), token_for(trainer)
    operations.set_password(None, db.session.get(User, trainer.id), "another long password", "another long password")
    db.session.commit()
    assert browser.get("/cohorts").status_code == 302
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert client.post("/api/v1/tokens", json={"email": trainer.email,
                                               "password": "another long password"}).status_code == 201
