"""Bearer-token authentication for the JSON API under /api/v1."""
from __future__ import annotations

from flask import Blueprint, g, request
from flask_babel import lazy_gettext as _l

from accounts.operations import token_for
from common.api import API_PREFIX
from common.errors import Unauthorized


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1 whose requests are authenticated by bearer token only."""
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX)
    bp.before_request(authenticate_bearer)
    return bp


def authenticate_bearer() -> None:
    g.api_user = g.api_token = None
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, raw = header.partition(" ")
    token = token_for(raw.strip()) if scheme.lower() == "bearer" and raw.strip() else None
    if token is None:
        raise Unauthorized(_l("The token is missing, expired or not valid. Ask for a new one at /api/v1/tokens."))
    g.api_user, g.api_token = token.user, token
