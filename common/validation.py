"""Parsing of raw input (JSON values, form strings) into typed values, with one message per rule.

Every parser takes a FieldErrors collector and a field name, returns the clean value, or records a
message and returns None, so an operation can report every fault of a request at once.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from common.clock import MOROCCO
from common.errors import FieldErrors, ValidationFailed

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
TIFINAGH_RE = re.compile("[\u2d30-\u2d7f]")

REQUIRED = _l("This field is required.")
# The largest value an id column holds (a 32-bit integer on PostgreSQL): a bigger number names no row, and
# would overflow the database driver if sent to it.
ID_MAX = 2**31 - 1


# Control characters (C0 but tab, line feed and carriage return; DEL; C1): NUL ends a string in C and
# PostgreSQL refuses it; the others are invisible and have no place in what people type.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069), the
# left-to-right and right-to-left marks (U+200E, U+200F) and the Arabic letter mark (U+061C). Inside a
# name they can reorder the text printed around it ("Amine<U+202E> 9102-FK :laireS ,DILAV" reads
# "Amine VALID, Serial: KF-2019").
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
CONTROL_MESSAGE = _l("Remove the invisible control characters (such as NUL) from this text.")
BIDI_MESSAGE = _l("Remove the invisible direction marks (such as U+202E) from this name: they can make the text "
                  "around it read differently.")


def has_control(value: Any) -> bool:
    """Whether a string holds a control character (tab, line feed and carriage return excepted)."""
    return isinstance(value, str) and CONTROL_RE.search(value) is not None


def has_bidi_control(value: Any) -> bool:
    return isinstance(value, str) and BIDI_RE.search(value) is not None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(errors: FieldErrors, name: str, value: Any, *, required: bool = True, max_length: int = 200) -> str | None:
    """One line of text, its runs of spaces made one. Control characters are refused, not removed: what
    is stored is what the person typed."""
    if isinstance(value, str) and has_control(value):
        errors.add(name, CONTROL_MESSAGE)
        return None
    if _blank(value):
        if required:
            errors.add(name, REQUIRED)
        return None
    if not isinstance(value, str):
        errors.add(name, _l("Must be text."))
        return None
    value = " ".join(value.split())
    if len(value) > max_length:
        errors.add(name, _l("At most %(max)d characters.", max=max_length))
        return None
    return value


def person_name(errors: FieldErrors, name: str, value: Any, *, required: bool = True,
                max_length: int = 200) -> str | None:
    """A person's name, as printed on pages and certificates: text without control characters and without
    bidirectional controls, so it can never reorder what is printed around it."""
    if has_bidi_control(value):
        errors.add(name, BIDI_MESSAGE)
        return None
    return text(errors, name, value, required=required, max_length=max_length)


def query_text(value: Any, *, max_length: int = 200) -> str:
    """A search term from the query string (?q=): trimmed and cut to max_length. Control characters never
    get here (the request guard refuses them), but a caller outside a request is checked too."""
    if not isinstance(value, str):
        return ""
    if has_control(value):
        raise ValidationFailed.single("q", CONTROL_MESSAGE)
    return value.strip()[:max_length]


def code(errors: FieldErrors, name: str, value: Any) -> str | None:
    value = text(errors, name, value, max_length=32)
    if value is not None and not CODE_RE.match(value):
        errors.add(name, _l("Use letters, digits, dot, dash or underscore (at most 32)."))
        return None
    return value


def email(errors: FieldErrors, name: str, value: Any) -> str | None:
    value = text(errors, name, value, max_length=254)
    if value is None:
        return None
    try:
        # No DNS lookup: the registry must work offline, and a typo is what we guard against here.
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors.add(name, _l("This is not a valid email address."))
        return None


def choice(errors: FieldErrors, name: str, value: Any, vocabulary: dict, *, required: bool = True) -> str | None:
    if _blank(value):
        if required:
            errors.add(name, REQUIRED)
        return None
    if not isinstance(value, str) or value not in vocabulary:
        errors.add(name, _l("Unknown value “%(value)s”. Allowed: %(allowed)s.",
                            value=str(value)[:40], allowed=", ".join(vocabulary)))
        return None
    return value


def decimal(errors: FieldErrors, name: str, value: Any, *, minimum: Decimal | None = None,
            maximum: Decimal | None = None, required: bool = True, exclusive_minimum: bool = False) -> Decimal | None:
    if _blank(value):
        if required:
            errors.add(name, REQUIRED)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        errors.add(name, _l("Must be a number."))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        errors.add(name, _l("Must be a number."))
        return None
    if not number.is_finite():
        errors.add(name, _l("Must be a number."))
        return None
    too_small = minimum is not None and (number <= minimum if exclusive_minimum else number < minimum)
    if too_small or (maximum is not None and number > maximum):
        if exclusive_minimum:
            errors.add(name, _l("Must be more than %(min)s and at most %(max)s.", min=minimum, max=maximum))
        else:
            errors.add(name, _l("Must be between %(min)s and %(max)s.", min=minimum, max=maximum))
        return None
    return number


def integer(errors: FieldErrors, name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None,
            required: bool = True) -> int | None:
    if _blank(value):
        if required:
            errors.add(name, REQUIRED)
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        errors.add(name, _l("Must be a whole number."))
        return None
    try:
        number = int(value) if not isinstance(value, str) else int(value.strip())
    except (TypeError, ValueError):
        errors.add(name, _l("Must be a whole number."))
        return None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        errors.add(name, _l("Must be between %(min)s and %(max)s.", min=minimum, max=maximum))
        return None
    return number


def boolean(errors: FieldErrors, name: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return value.lower() in ("true", "1", "yes", "on")
    errors.add(name, _l("Must be true or false.") if value is not None else REQUIRED)
    return None


def iso_date(errors: FieldErrors, name: str, value: Any, *, required: bool = True) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _blank(value):
        if required:
            errors.add(name, REQUIRED)
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(name, _l("Use a date like 2026-09-30."))
        return None


def local_datetime(errors: FieldErrors, name: str, value: Any) -> datetime | None:
    """An aware datetime. A time given without an offset is read as Morocco's local time."""
    if _blank(value):
        errors.add(name, REQUIRED)
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            errors.add(name, _l("Use a date and time like 2026-09-30T09:00."))
            return None
    return parsed.replace(tzinfo=MOROCCO) if parsed.tzinfo is None else parsed


def date_range(errors: FieldErrors, start_name: str, start: date | None, end_name: str, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        errors.add(end_name, _l("The end date must not be before the start date."))


def row_id(errors: FieldErrors, name: str, value: Any, *, required: bool = True) -> int | None:
    """The id of a row: a whole number from 1 to ID_MAX."""
    return integer(errors, name, value, minimum=1, maximum=ID_MAX, required=required)


def id_list(errors: FieldErrors, name: str, value: Any, *, max_items: int = 5000) -> list[int]:
    if not isinstance(value, list) or not value:
        errors.add(name, _l("Give a non-empty list."))
        return []
    if len(value) > max_items:
        errors.add(name, _l("At most %(max)d items at once.", max=max_items))
        return []
    ids = []
    for index, item in enumerate(value):
        number = row_id(errors, f"{name}.{index}", item)
        if number is not None:
            ids.append(number)
    return ids


def localized_titles(errors: FieldErrors, name: str, value: Any, *, tamazight: bool = False) -> dict[str, str]:
    """A title in French, Arabic and English, each required; with tamazight, also an optional "zgh" title,
    in Tifinagh letters (None when not given)."""
    if not isinstance(value, dict):
        errors.add(name, _l("Give the title as an object with fr, ar and en."))
        return {}
    titles = {}
    for lang in ("fr", "ar", "en"):
        title = text(errors, f"{name}.{lang}", value.get(lang))
        if title is not None:
            titles[lang] = title
    if tamazight:
        title = text(errors, f"{name}.zgh", value.get("zgh"), required=False)
        if title is not None and not TIFINAGH_RE.search(title):
            errors.add(f"{name}.zgh", _l("Write the Tamazight title in Tifinagh letters."))
        titles["zgh"] = title
    return titles

