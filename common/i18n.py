"""The languages Kafaa speaks, and which one a request is answered in."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from urllib.parse import quote, urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from common.negotiation import negotiated_on

LANGUAGES = ("fr", "ar", "en")
RTL_LANGUAGES = frozenset({"ar"})
# The public pages (landing, verification, privacy notice summary) also speak Standard Moroccan Tamazight
# (zgh, Tifinagh, left to right). The back office speaks LANGUAGES only: select_locale gives zgh to a view
# marked public_page, and to an error answered in the public layout (answer_as_public_page), and to nothing
# else, so a back-office page never shows a half-translated catalog.
PUBLIC_LANGUAGES = LANGUAGES + ("zgh",)
# Each language named in itself, for the public pages' language links, in the order of the national
# identity card (Arabic, Tamazight, French), then English.
LANGUAGE_NAMES = {"ar": "العربية", "zgh": "ⵜⴰⵎⴰⵣⵉⵖⵜ", "fr": "Français", "en": "English"}
_PUBLIC_LANGUAGE_NAMES = tuple((code, name) for code, name in LANGUAGE_NAMES.items() if code in PUBLIC_LANGUAGES)


def public_page(view):
    """Mark a view as a public page: answered without a session (no cookie read for the language, none
    written), in the language of ?lang= or else the browser's. Apply it outermost, above other decorators."""
    view.public_page = True
    return view


_ANSWERED_AS_PUBLIC = "kafaa.answered_as_public_page"


def is_public_page() -> bool:
    """Whether the current request is for a view marked with public_page, or is answered as one (an error
    shown to a visitor without a session: answer_as_public_page)."""
    if not has_request_context():
        return False
    if request.environ.get(_ANSWERED_AS_PUBLIC):
        return True
    return request.endpoint is not None and getattr(current_app.view_functions.get(request.endpoint),
                                                    "public_page", False)


def answer_as_public_page() -> None:
    """From here on, this request is answered as a public page (common.errors.error_page, for a visitor
    without a session): in the public pages' languages, from ?lang= then the browser's, reading no session."""
    request.environ[_ANSWERED_AS_PUBLIC] = True  # the request's own: g may outlive it (tests, jobs)


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
        return browser_language(PUBLIC_LANGUAGES)
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    user = g.get("api_user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return browser_language(LANGUAGES)


def browser_language(offered: tuple[str, ...]) -> str:
    """The language of `offered` the browser prefers (Accept-Language), else French."""
    negotiated_on("Accept-Language")
    return _best_language(request.headers.get("Accept-Language", ""), offered)


@lru_cache(maxsize=256)
def _best_language(accept_language: str, offered: tuple[str, ...]) -> str:
    # Browsers send few distinct headers: each is parsed once, not on every scan of a QR code.
    return parse_accept_header(accept_language, LanguageAccept).best_match(offered) or "fr"


@lru_cache(maxsize=4096)
def _day(value: date, locale: str) -> str:
    return format_date(value, "medium", locale=locale)


@lru_cache(maxsize=1024)
def _number(value: Decimal, locale: str) -> str:
    return format_decimal(value, locale=locale)


@lru_cache(maxsize=8192)
def _escaped(translations, string: str) -> Markup:
    """A catalog string as a page shows it, once per catalog: the catalogs do not change while the
    process runs, and escaping and wrapping it again for every visitor was most of a string's cost."""
    return escape(translations.gettext(string))


def page_context(locale: str, translations) -> dict:
    """Template context for a page rendered on the hot path (the public verification page), in `locale`
    with its catalog `translations`; the same for every request (common.public keeps one per language):
    - `_` and `gettext` bound to the catalog. Flask-Babel's own look up the domain, the
      locale and the catalog again for every string (a third of the page's time); these behave the same
      (Jinja's newstyle gettext: formatted with its keyword arguments, escaped), except that the
      catalog string is escaped too (these pages translate plain text only), and autoescaping is assumed
      (public pages are .html templates);
    - `day(date)` and `number(decimal)`, as the localdate and number filters write them, remembered per
      value and language: pure formatting (a verdict is never cached);
    - `lang` and `dir`."""

    def gettext(string: str, **variables) -> Markup:
        # Not pass_context: Jinja derives a new context for each such call inside a block that sets a variable.
        text = _escaped(translations, string)
        # As Jinja's newstyle gettext: formatted even without variables when the string holds a "%" ("%%").
        return text % variables if variables or "%" in text else text

    return {"gettext": gettext, "_": gettext, "lang": locale, "dir": "rtl" if locale in RTL_LANGUAGES else "ltr",
            "day": lambda value: "" if value is None else _day(value, locale),
            "number": lambda value: "—" if value is None else _number(value, locale)}


def language_links(current: str) -> list[tuple[str, str, str, bool]]:
    """The public pages' language switch: (code, name in itself, href, is current) for each public
    language. The link keeps the page's other query arguments (a typed serial and code); with none, it is
    the path and ?lang=, built without url_for: the verification page is the hot path."""
    others = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    base = f"{quote(request.path)}?{urlencode(others) + '&' if others else ''}lang="
    return [(code, name, base + code, code == current) for code, name in _PUBLIC_LANGUAGE_NAMES]
