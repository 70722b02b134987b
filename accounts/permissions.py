"""Who is asking, and whether their role lets them in. Object checks (may this trainer see this cohort?)
live beside the objects, in each feature package's permissions.py."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import g, request
from flask_login import current_user

from accounts.models import User
from common.errors import Forbidden, Unauthorized
from common.extensions import login


def current_actor() -> User | None:
    """The user behind this request: the bearer token's on the API, the session's on web pages."""
    if request.path.startswith("/api/"):
        return g.get("api_user")
    return current_user if current_user.is_authenticated else None


def require_role(*roles: str) -> Callable:
    """Refuse anonymous users (401 on the API, the login page on the web) and other roles (403).
    With no roles given, any signed-in user passes."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                if request.path.startswith("/api/"):
                    raise Unauthorized()
                return login.unauthorized()
            if roles and actor.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)
        wrapped.required_roles = roles  # read by the API description (common.openapi)
        return wrapped
    return decorator
