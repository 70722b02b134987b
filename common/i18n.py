"""The languages Kafaa speaks, and which one a request is answered in."""
from __future__ import annotations

from flask import g, has_request_context, request, session
from flask_login import current_user

LANGUAGES = ("fr", "ar", "en")
RTL_LANGUAGES = frozenset({"ar"})


def select_locale() -> str:
    """The language a person chose (account, then cookie), else the browser's, else French (and French
    outside a request: command-line output)."""
    if not has_request_context():
        return "fr"
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    user = g.get("api_user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return request.accept_languages.best_match(LANGUAGES) or "fr"
