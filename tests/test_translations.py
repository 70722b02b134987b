"""The translation catalogs are complete, current and well formed. Pure: no database, no app.

After adding or changing a user-facing string (`_()`, `_l()`, `ngettext` in Python or a template):

    make translations      # extract into translations/messages.pot and merge it into every messages.po
    # fill in the new (empty) msgstr entries of translations/fr and translations/ar (messages.po);
    # an entry marked `#, fuzzy` counts as untranslated until that line is removed
    make test              # compiles the .po files into .mo, then runs these tests

English is the source language: translations/en may stay untranslated (the msgid is shown).
"""
from __future__ import annotations

import contextlib
import gettext
import re
import shlex
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from common.errors import CONCURRENT_CHANGE, HTTP_TITLES
from common.validation import CONTROL_MESSAGE

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
LANGUAGES = ("fr", "ar", "en")
REQUIRED = ("fr", "ar")  # must be complete; English may stay empty
PLURAL_FORMS = {
    "fr": (2, {0: 0, 1: 0, 2: 1, 5: 1, 100: 1}),
    "ar": (6, {0: 0, 1: 1, 2: 2, 3: 3, 10: 3, 11: 4, 99: 4, 100: 5, 102: 5, 103: 3, 111: 4}),
    "en": (2, {0: 1, 1: 0, 2: 1}),
}
HOW_TO_FIX = ("After changing strings: run `make translations`, fill in the new (empty) or `#, fuzzy` entries "
              "of translations/fr and translations/ar (messages.po), then run `make test`.")

# A printf conversion as Python's % operator reads it, or a lone "%" that is not one.
PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]|%")
ARABIC_LETTER = re.compile(r"[\u0620-\u064a]")


def _key(message) -> str:
    """One readable line per entry: the msgid, and the plural msgid after ' | '."""
    return " | ".join(message.id) if isinstance(message.id, tuple) else message.id


def _forms(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _load(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _catalog_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def _extract_flags() -> list[str]:
    """pybabel's extraction flags, read from the Makefile so that the test and `make translations` agree."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^PYBABEL_EXTRACT_FLAGS\s*:?=\s*(.+)$", makefile, re.M)
    assert found, "the Makefile must define PYBABEL_EXTRACT_FLAGS on one line (used by `make translations`)"
    return shlex.split(found.group(1))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Every message in the code and templates today, extracted exactly as `make translations` does."""
    out = tmp_path_factory.mktemp("babel") / "messages.pot"
    with contextlib.chdir(ROOT):
        CommandLineInterface().run(["pybabel", "-q", "extract", *_extract_flags(), "-o", str(out), "."])
    catalog = _load(out)
    assert len(catalog) > 100, f"extraction found only {len(catalog)} messages: is babel.cfg right?"
    return catalog


@pytest.fixture(scope="module", params=LANGUAGES)
def lang(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def catalog(lang):
    path = _catalog_path(lang)
    assert path.exists(), f"{path.relative_to(ROOT)} is missing. {HOW_TO_FIX}"
    return _load(path)


def test_messages_pot_is_current(extracted):
    committed = {m.id for m in _load(POT) if m.id}
    fresh = {m.id for m in extracted if m.id}
    added = sorted(_key(m) for m in extracted if m.id and m.id not in committed)
    removed = sorted(" | ".join(i) if isinstance(i, tuple) else i for i in committed - fresh)
    assert not added and not removed, (
        "translations/messages.pot is stale: run `make translations`, then translate the new entries.\n"
        + "".join(f"  added:   {k!r}\n" for k in added) + "".join(f"  removed: {k!r}\n" for k in removed))


@pytest.mark.parametrize("required", REQUIRED)
def test_every_message_is_translated(extracted, required):
    catalog = _load(_catalog_path(required))
    missing, empty, fuzzy = [], [], []
    for message in extracted:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None or found.id != message.id:  # absent, or its plural msgid changed
            missing.append(_key(message))
        elif found.fuzzy:
            fuzzy.append(_key(message))
        elif not all(form.strip() for form in _forms(found)) or len(_forms(found)) != (
                catalog.num_plurals if found.pluralizable else 1):
            empty.append(_key(message))
    problems = [(f"missing from translations/{required}", missing), ("untranslated (empty msgstr)", empty),
                ("marked #, fuzzy (check the translation, then remove the flag)", fuzzy)]
    report = "".join(f"\n{title}:\n" + "".join(f"  {k!r}\n" for k in keys) for title, keys in problems if keys)
    assert not report, f"translations/{required}/LC_MESSAGES/messages.po is incomplete. {HOW_TO_FIX}\n{report}"


def test_catalog_follows_messages_pot(lang, catalog):
    """Every catalog holds exactly the template's entries: `make translations` merged it."""
    template = {m.id for m in _load(POT) if m.id}
    own = {m.id for m in catalog if m.id}
    extra = sorted(" | ".join(i) if isinstance(i, tuple) else i for i in own - template)
    lacking = sorted(" | ".join(i) if isinstance(i, tuple) else i for i in template - own)
    assert not extra and not lacking, (
        f"translations/{lang} is not merged with messages.pot: run `make translations`.\n"
        + "".join(f"  not in messages.pot: {k!r}\n" for k in extra)
        + "".join(f"  not in the catalog:  {k!r}\n" for k in lacking))


def _placeholders(text: str) -> list[str]:
    return sorted(PERCENT.findall(text))


def test_translations_keep_the_placeholders(lang, catalog):
    """Same %(name)s / %(num)d / %% as the msgid, nothing more, nothing less. A plural form may leave the
    count out ("شهر واحد", one month). A stray % would break the page: templates always apply %."""
    wrong = []
    for message in catalog:
        if not message.id or message.fuzzy:  # a fuzzy entry is reported, and not compiled, as untranslated
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = _placeholders(ids[-1])
        for index, form in enumerate(_forms(message)):
            if not form:
                continue
            found = _placeholders(form)
            allowed = [expected]
            if message.pluralizable:
                allowed.append([p for p in expected if not p.startswith("%(num)")])
                allowed.append(_placeholders(ids[0]))
            if found not in allowed:
                label = f"msgstr[{index}]" if message.pluralizable else "msgstr"
                wrong.append(f"  {_key(message)!r}\n    {label} {form!r}: has {found}, expected {expected}")
    for message, errors in catalog.check():  # Babel's own checks: python-format types, number of plural forms
        wrong.extend(f"  {_key(message)!r}: {error}" for error in errors)
    assert not wrong, f"translations/{lang}: placeholders differ from the msgid:\n" + "\n".join(wrong)


def test_arabic_translations_are_in_arabic():
    catalog = _load(_catalog_path("ar"))
    latin = [f"  {_key(m)!r}: {form!r}" for m in catalog if m.id for form in _forms(m)
             if form and not ARABIC_LETTER.search(form)]
    assert not latin, "translations/ar: these translations have no Arabic letter:\n" + "\n".join(latin)


def test_trans_blocks_say_whether_they_are_trimmed():
    """babel.cfg extracts {% trans %} blocks trimmed; Jinja renders them untrimmed unless told. A block that
    says neither would be looked up under another msgid than the extracted one, and stay in English."""
    unmarked = []
    for template in sorted((ROOT / "templates").rglob("*")):
        if template.suffix not in (".html", ".txt"):
            continue
        source = template.read_text(encoding="utf-8")
        for tag in re.finditer(r"{%-?\s*trans\b(.*?)-?%}", source, re.S):
            if not re.search(r"\b(?:trimmed|notrimmed)\b", tag.group(1)):
                line = source.count("\n", 0, tag.start()) + 1
                unmarked.append(f"  {template.relative_to(ROOT)}:{line}: {tag.group(0)}")
    assert not unmarked, "write {% trans trimmed %} (or notrimmed) in:\n" + "\n".join(unmarked)


def test_catalog_compiles_and_translates(lang, catalog, tmp_path):
    """The .mo that `make setup` builds: header sound, compiled without error, read back by gettext."""
    num_plurals, samples = PLURAL_FORMS[lang]
    assert str(catalog.locale) == lang, f"translations/{lang}: header Language is {catalog.locale}"
    assert not catalog.fuzzy, (f"translations/{lang}: the header is marked fuzzy, so pybabel compile would skip "
                               "the whole catalog: remove `#, fuzzy` above msgid \"\"")
    assert catalog.num_plurals == num_plurals, (
        f"translations/{lang}: Plural-Forms gives {catalog.num_plurals} forms, expected {num_plurals}")
    mo = tmp_path / "messages.mo"
    with mo.open("wb") as f:
        write_mo(f, catalog)
    with mo.open("rb") as f:
        translations = gettext.GNUTranslations(f)
    for n, form in samples.items():  # the compiled Plural-Forms picks the expected form
        assert translations.plural(n) == form, f"translations/{lang}: n={n} takes form {translations.plural(n)}"
    for message in catalog:
        if not message.id or message.fuzzy or not all(_forms(message)):
            continue
        if message.pluralizable:
            singular, plural = message.id
            for n, form in samples.items():
                assert translations.ngettext(singular, plural, n) == message.string[form], (lang, message.id, n)
        else:
            assert translations.gettext(message.id) == message.string, (lang, message.id)



# Amazigh (zgh) covers the public pages only (common.i18n.PUBLIC_LANGUAGES): every string of these files must
# be translated; the back office's entries stay empty and are never shown in zgh.
PUBLIC_SOURCES = ("templates/public_base.html", "templates/public/", "templates/certificates/verify.html",
                  "templates/certificates/_check_forms.html", "templates/certificates/_signer.html",
                  "templates/privacy/notice.html", "certificates/wording.py", "templates/transcripts/public.html")
# Strings of the public views (certificates/views.py also holds back-office messages), and every message
# an error page can show on a public page or to a visitor without a session (common.errors.error_page).
PUBLIC_VIEW_STRINGS = ("Cannot check now. Try again shortly.", "This field is required.",
                       "Field cannot be longer than %(max)d characters.",
                       *(lazy._args[0] for lazy in (*HTTP_TITLES.values(), CONCURRENT_CHANGE, CONTROL_MESSAGE)))


def test_every_public_string_is_translated_into_amazigh(extracted):
    catalog = _load(_catalog_path("zgh"))
    public = [m for m in extracted if m.id and (m.id in PUBLIC_VIEW_STRINGS or any(
        path.startswith(PUBLIC_SOURCES) for path, _ in m.locations))]
    assert len(public) > 40
    untranslated = [_key(m) for m in public if (found := catalog.get(m.id, m.context)) is None or found.fuzzy
                    or not all(form.strip() for form in _forms(found))]
    assert untranslated == [], f"translations/zgh lacks public strings. {HOW_TO_FIX}\n{untranslated}"
    for message in public:
        found = catalog.get(message.id, message.context)
        assert sorted(PERCENT.findall(found.string)) == sorted(PERCENT.findall(message.id)), message.id
        assert re.search(r"[\u2d30-\u2d7f]", found.string), f"not in Tifinagh: {message.id!r}"
    header = (TRANSLATIONS / "zgh" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")[:600]
    assert "AWAIT REVIEW BY A QUALIFIED TRANSLATOR" in header
