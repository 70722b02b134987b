"""Accounts on the JSON API: tokens and the signed-in user."""
from __future__ import annotations

from flask import g

from accounts import operations
from app import db
from common.api import api_blueprint, json_body
from common.security import login_limits
from common.errors import Unauthorized
from privacy.serializers import consent_json
from skills.permissions import require_role

bp = api_blueprint("accounts_api", __name__)


def user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role, "trainee_id": user.trainee_id,
            "locale": user.locale, "active": user.active, "privacy_notice": consent_json(user)}


@bp.post("/tokens")
@login_limits
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
def me():
    return user_json(g.api_user)

