"""Answers of the pages anyone reaches by scanning a QR code (a certificate's /v/…, a transcript's /t/…): never
cached nor indexed, rendered from an explicit context rather than Flask's context processors.

A verdict page knows nobody: the context processors would look up a signed-in user (Flask-Login hashes
the visitor's address and browser for it), offer a CSRF token and the notice's settings, all for a page
that shows none of them, on the one page most people ever open. What such a page may use is listed here:
the app's template globals and filters (Flask's request and url_for, common.templating's), the hot-path helpers of
common.i18n.page_context, and what the view passes."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from flask import Response, current_app, make_response
from flask_babel import force_locale, get_translations
from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from common import clock
from common.i18n import page_context, select_locale


def never_cached(response: Response) -> Response:
    """A verification answer is never cached nor indexed: a status can change at any moment (a revocation
    shows on the next check, on every instance)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


class TranslateWhenCompiled(Extension):
    """`_('text')` and `gettext('text')` without arguments become the translated text when a template is
    compiled, in an environment made for one language (public_language): Jinja then writes it
    into the page as a constant, escaped once, instead of calling the catalog for every visitor. Calls with
    arguments (`_('%(hours)s h', hours=…)`) stay calls. pybabel still reads the source, so nothing changes
    for the catalogs."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        translate: Callable[[str], str] | None = getattr(self.environment, "translate_when_compiled", None)
        return stream if translate is None else self._folded(list(stream), translate)

    @staticmethod
    def _folded(tokens: list[Token], translate: Callable[[str], str]) -> Iterator[Token]:
        i = 0
        while i < len(tokens):
            name, *call = tokens[i:i + 4]
            if (name.type == "name" and name.value in ("_", "gettext") and [t.type for t in call] == ["lparen", "string", "rparen"]
                    and (i == 0 or tokens[i - 1].type != "dot")):
                text = translate(call[1].value)
                # As Jinja's newstyle gettext, which formats even without arguments ("%%" is "%").
                yield Token(name.lineno, "string", text % {} if "%" in text else text)
                i += 4
            else:
                yield name
                i += 1


@dataclass(frozen=True)
class PublicLanguage:
    """What a public page needs of one language, made once per process: the template environment that
    translates when compiling, and the variables every page starts from: the app's template globals and
    the context of common.i18n.page_context, in one flat dict. (Jinja would otherwise copy its chain of
    globals into each page's context, one lookup per global for every visitor. The globals are all
    registered while the app is set up, before its first request, so the copy made here is complete.)"""
    environment: Environment
    variables: dict


def public_language(locale: str) -> PublicLanguage:
    languages = current_app.extensions.setdefault("kafaa.public_languages", {})
    if locale not in languages:
        with force_locale(locale):  # the catalog of `locale`, whatever the request's
            translations = get_translations()
        environment = current_app.jinja_env.overlay(extensions=[TranslateWhenCompiled])
        environment.translate_when_compiled = translations.gettext
        languages[locale] = PublicLanguage(environment, {**environment.globals, **page_context(locale, translations)})
    return languages[locale]


def render_public(template: str, status: int = 200, **context) -> Response:
    """A public verification page in the visitor's language (common.i18n.select_locale, which is what
    Flask-Babel would be told, without its per-request work): `today`, the context of page_context and
    `context`; no session, no cookie, never cached."""
    language = public_language(select_locale())
    page = language.environment.get_template(template)
    # Template.render, less the copy of the globals: a shared context takes the variables as they are.
    variables = {**language.variables, "today": clock.today(), **context}
    try:
        body = language.environment.concat(page.root_render_func(page.new_context(variables, shared=True)))
    except Exception:  # noqa: BLE001 - re-raised by Jinja, with the template's lines in the traceback
        language.environment.handle_exception()
    return never_cached(make_response(body, status))
