"""Answers of the pages anyone reaches by scanning a QR code (a certificate's /v/…, a transcript's /t/…): never
cached nor indexed, rendered from an explicit context rather than Flask's context processors.

A verdict page knows nobody: the context processors would look up a signed-in user (Flask-Login hashes
the visitor's address and browser for it), offer a CSRF token and the notice's settings, all for a page
that shows none of them, on the one page most people ever open. What such a page may use is listed here:
the app's template globals and filters (Flask's request and url_for, common.templating's), the hot-path helpers of
common.i18n.page_context, and what the view passes."""
from __future__ import annotations

from flask import Response, current_app, make_response
from flask_babel import get_locale

from common import clock
from common.i18n import page_context


def never_cached(response: Response) -> Response:
    """A verification answer is never cached nor indexed: a status can change at any moment (a revocation
    shows on the next check, on every instance)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def render_public(template: str, status: int = 200, **context) -> Response:
    """A public verification page in the visitor's language (common.i18n.select_locale): `today`, the
    context of page_context and `context`; no session, no cookie, never cached."""
    page = current_app.jinja_env.get_template(template)
    body = page.render(today=clock.today(), **page_context(str(get_locale())), **context)
    return never_cached(make_response(body, status))
