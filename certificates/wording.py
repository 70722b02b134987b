"""The words printed on a certificate, in its three languages, read from the app's catalogs.

The certificate speaks Arabic, Tamazight (Tifinagh) and French, in the order of the national identity
card (LANGUAGES). Each label is an English msgid marked with N_ (extracted by `make translations`) and
looked up here in translations/{ar,zgh,fr}: the French and Arabic wording is the site's, and the Tifinagh
comes from the zgh catalog, so docs/zgh-glossary.md stays the one source of its terms (tests/test_translations.py
makes every msgid of this file carry a Tifinagh translation). No Flask: bulk jobs and the benchmarks render
outside a request, and a certificate is always trilingual whatever the reader's language.

English is not printed: the identity card's languages are enough for a Moroccan document, French serves a
relying party abroad, and the QR code opens the verification page, which also speaks English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("ar", "zgh", "fr")  # the national identity card's order
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def N_(message: str) -> str:  # noqa: N802 — the conventional name, which pybabel extracts by default
    """Mark a msgid for extraction; it is translated when drawn (`words`)."""
    return message


TITLE = N_("Training certificate")
AWARDED_TO = N_("awarded to")
FOR_TRACK = N_("for having successfully completed the track")
MODULES = N_("Modules")
BUILDS_ON = N_("Builds on")  # the pathway: the tracks this one requires
RECOGNISED = N_("recognised prior learning")
TOTAL = N_("Total: %(hours)s h")
ISSUED = N_("Issued on %(issued)s")
ISSUED_VALID = N_("Issued on %(issued)s, valid until %(expires)s")
SIGNED = N_("Document signed electronically: any change invalidates the signature.")
CHECK_AT = N_("Check at")
REVOKED = N_("Revoked")


@cache
def catalog(language: str) -> Translations:
    """The compiled catalog of a language, loaded once per process. A missing .mo would print English
    labels on a certificate without a word said: refuse instead."""
    found = Translations.load(str(TRANSLATIONS), [language])
    if type(found) is NullTranslations:
        raise RuntimeError(f"translations/{language}/LC_MESSAGES/messages.mo is missing: run `make dev-setup`")
    return found


@cache
def words(message: str) -> dict[str, str]:
    """A label in each of the certificate's languages, keyed ar, zgh, fr (placeholders left to fill)."""
    return {language: catalog(language).ugettext(message) for language in LANGUAGES}


def word(message: str, language: str, **values: str) -> str:
    text = words(message)[language]
    return text % values if values else text
