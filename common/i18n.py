"""The languages Kafaa speaks, and which one a request is answered in."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

LANGUAGES = ("fr", "ar", "en")
RTL_LANGUAGES = frozenset({"ar"})
# The public pages (landing, verification, privacy notice) speak these; the back office speaks LANGUAGES.
PUBLIC_LANGUAGES = LANGUAGES
# Each language named in itself, for the public pages' language links.
LANGUAGE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}


def public_page(view):
    """Mark a view as a public page: answered without a session (no cookie read for the language, none
    written), in the language of ?lang= or else the browser's. Apply it outermost, above other decorators."""
    view.public_page = True
    return view


def is_public_page() -> bool:
    """Whether the current request is for a view marked with public_page."""
    if not has_request_context() or request.endpoint is None:
        return False
    return getattr(current_app.view_functions.get(request.endpoint), "public_page", False)


def select_locale() -> str:
    """The language a person chose (account, then cookie), else the browser's, else French (and French
    outside a request: command-line output). Public pages never read the session: ?lang=, then the
    browser's Accept-Language."""
    if not has_request_context():
        return "fr"
    chosen = request.args.get("lang")
    if is_public_page():
        if chosen in PUBLIC_LANGUAGES:
            return chosen
        return request.accept_languages.best_match(PUBLIC_LANGUAGES) or "fr"
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
