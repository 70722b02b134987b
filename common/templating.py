"""Template globals and filters: language and direction, dates in Morocco's time zone, numbers."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, format_percent, format_time, get_locale
from babel import Locale
from markupsafe import Markup

from common.i18n import LANGUAGES, RTL_LANGUAGES, language_links


def current_language() -> str:
    return str(get_locale() or "fr")


def text_direction() -> str:
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


def localdate(value: date | datetime | str | None, format: str = "medium") -> str:
    """A date in the reader's language; ISO strings (from stored snapshots) are accepted too."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return "" if value is None else format_date(value, format)


def localdatetime(value: datetime | None, format: str = "medium") -> str:
    return "" if value is None else format_datetime(value, format)  # Flask-Babel converts to Africa/Casablanca


def localtime(value: datetime | None, format: str = "short") -> str:
    """The time of day in Morocco, in the reader's language ("09:30")."""
    return "" if value is None else format_time(value, format)


def percent(value: Decimal | float | None) -> str:
    """A rate as the reader's language writes it, to one decimal at most: "80 %" in French (with a narrow
    no-break space, like the catalog's French typography), "80%" in Arabic and English."""
    if value is None:
        return "—"
    locale = get_locale() or Locale.parse("fr")
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.#", 1)
    text = format_percent(float(value), format=pattern)
    return text.replace("\u00a0%", "\u202f%") if locale.language == "fr" else text


def number(value: Decimal | float | int | None) -> str:
    return "—" if value is None else format_decimal(value)


def display_name(person) -> str:
    """The name in the script the reader reads best: Arabic for Arabic readers when there is one.
    Takes a trainee or a mapping with the same keys."""
    get = person.get if isinstance(person, dict) else (lambda key: getattr(person, key, None))
    if current_language() == "ar" and get("name_ar"):
        return get("name_ar")
    return get("name")


def url_with(_endpoint: str | None = None, **changes) -> str:
    """The current page's URL (or another endpoint's) keeping the query arguments, some changed:
    pagination, filters, drill-down links. A change to None removes the argument."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    if _endpoint is not None:
        return url_for(_endpoint, **args)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


_BDI = Markup("<bdi>%s</bdi>")


def bdi(value) -> Markup:
    """Isolate a date, number or name inside a sentence, so Arabic text does not reorder it, and a name
    holding direction marks (stored before they were refused) cannot reorder what surrounds it."""
    return _BDI % (value,)  # Markup's % escapes the value, at half the cost of Markup.format


def bdi_message(message: str, **values) -> Markup:
    """A translated message (a flash) with each %(placeholder)s filled by its value isolated in <bdi>:
    `bdi_message(_("Trainee %(name)s saved."), name=trainee.name)`. The message is escaped, each value
    too (through bdi); the result is Markup, which the page shows as it is."""
    return Markup.escape(message) % {key: bdi(value) for key, value in values.items()}


def isolate(value) -> str:
    """The same isolation where markup cannot go (a page title, an attribute): FIRST STRONG ISOLATE ...
    POP DIRECTIONAL ISOLATE around the text."""
    return "" if value is None else f"\u2068{value}\u2069"


def back_arrow() -> str:
    return "→" if text_direction() == "rtl" else "←"


def init_app(app: Flask, vocabularies: dict[str, dict]) -> None:
    """vocabularies: the packages' closed lists (code -> label) that templates show, by global name."""
    app.jinja_env.globals.update(current_language=current_language, text_direction=text_direction,
                                 LANGUAGES=LANGUAGES, url_with=url_with, language_links=language_links,
                                 display_name=display_name,
                                 back_arrow=back_arrow, **vocabularies)
    app.jinja_env.filters.update(localdate=localdate, localdatetime=localdatetime, localtime=localtime, percent=percent,
                                 number=number, bdi=bdi, isolate=isolate)
    app.jinja_env.add_extension("jinja2.ext.i18n")  # {% trans %} blocks, wired to Flask-Babel
