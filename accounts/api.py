"""Accounts on the JSON API: tokens and the signed-in user."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

from accounts import operations
from accounts.bearer import api_blueprint
from accounts.models import ApiToken, User
from accounts.permissions import current_actor, require_role
from accounts.roles import ROLES
from accounts.serializers import CONSENT, consent_json
from common.api import json_body
from common.errors import NotFound, Unauthorized
from common.extensions import db
from common.openapi import (BOOLEAN, DATETIME, INTEGER, NO_CONTENT, STRING, Body, array, documented, enum, nullable,
                            obj, schema)
from common.types import iso_utc
from common.security import login_limits

bp = api_blueprint("accounts_api", __name__)


USER = schema("User", obj({"id": INTEGER, "email": STRING, "role": enum(ROLES), "trainee_id": nullable(INTEGER),
                           "locale": nullable(STRING), "active": BOOLEAN, "privacy_notice": CONSENT}))


def user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role, "trainee_id": user.trainee_id,
            "locale": user.locale, "active": user.active, "privacy_notice": consent_json(user)}


@bp.post("/tokens")
@login_limits
@documented("Get a token", tag="Accounts", public=True, errors=(401, 429),
            body=Body(obj({"email": STRING, "password": STRING})),
            responses={201: obj({"token": STRING, "token_type": {"const": "Bearer"}})},
            description="Send it as `Authorization: Bearer TOKEN`. Failed attempts are throttled per account and "
                        "address.")
def create_token():
    data = json_body()
    user = operations.authenticate(data.get("email"), data.get("password"))
    if user is None:
        db.session.commit()
        raise Unauthorized(operations.WRONG_CREDENTIALS)
    token = operations.issue_api_token(user)
    db.session.commit()
    return {"token": token, "token_type": "Bearer"}, 201


@bp.get("/me")
@require_role()
@documented("The token's own account", tag="Accounts", responses={200: USER})
def me():
    return user_json(g.api_user)



@bp.delete("/tokens/current")
@require_role()
@documented("Revoke the calling token", tag="Accounts", responses={204: NO_CONTENT},
            description="Sign out of the API: the token used for this request stops working at once.")
def revoke_current_token():
    operations.revoke_token(g.api_user, g.api_token)
    db.session.commit()
    return "", 204


TOKEN = schema("ApiTokenInfo", obj({"id": INTEGER, "created_at": DATETIME, "expires_at": DATETIME}))
TOKENS = schema("ApiTokenList", obj({"items": array(TOKEN)}))


def token_json(token: ApiToken) -> dict:
    return {"id": token.id, "created_at": iso_utc(token.created_at), "expires_at": iso_utc(token.expires_at)}


def _user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)


@bp.get("/users/<int:user_id>/tokens")
@require_role("admin")
@documented("An account's live API tokens", tag="Accounts", responses={200: TOKENS},
            description="When each was issued and when it expires; the tokens themselves are never stored.")
def list_tokens(user_id: int):
    user = _user_or_404(user_id)
    return {"items": [token_json(t) for t in db.session.scalars(operations.live_tokens(user))]}


@bp.delete("/users/<int:user_id>/tokens/<int:token_id>")
@require_role("admin")
@documented("Revoke one of an account's API tokens", tag="Accounts", responses={204: NO_CONTENT})
def revoke_token(user_id: int, token_id: int):
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    if token is None:
        raise NotFound()
    operations.revoke_token(current_actor(), token)
    db.session.commit()
    return "", 204


@bp.post("/users/<int:user_id>/sign-out")
@require_role("admin")
@documented("Sign an account out everywhere", tag="Accounts", responses={200: obj({"tokens_revoked": INTEGER})},
            description="Every web session of the account ends and every API token is revoked.")
def sign_out_everywhere(user_id: int):
    ended = operations.sign_out_everywhere(current_actor(), _user_or_404(user_id))
    db.session.commit()
    return {"tokens_revoked": ended}


@bp.post("/users/<int:user_id>/disable")
@require_role("admin")
@documented("Disable an account", tag="Accounts", responses={200: USER}, errors=(409,),
            description="It can no longer sign in; its sessions and tokens stop at their next request. "
                        "409 for your own account.")
def disable(user_id: int):
    user = _user_or_404(user_id)
    operations.disable_user(current_actor(), user)
    db.session.commit()
    return user_json(user)


@bp.post("/users/<int:user_id>/enable")
@require_role("admin")
@documented("Enable an account again", tag="Accounts", responses={200: USER},
            description="It may sign in again; the sessions and tokens ended when it was disabled stay ended.")
def enable(user_id: int):
    user = _user_or_404(user_id)
    operations.enable_user(current_actor(), user)
    db.session.commit()
    return user_json(user)
