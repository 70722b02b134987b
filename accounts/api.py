"""Accounts on the JSON API: tokens and the signed-in user."""
from __future__ import annotations

from flask import g

from accounts import operations
from accounts.bearer import api_blueprint
from accounts.permissions import require_role
from accounts.roles import ROLES
from accounts.serializers import CONSENT, consent_json
from common.api import json_body
from common.errors import Unauthorized
from common.extensions import db
from common.openapi import BOOLEAN, INTEGER, STRING, Body, documented, enum, nullable, obj, schema
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

