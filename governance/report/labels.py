"""The report's French and Arabic labels, all read from the translation catalogs: the vocabularies' labels
from skills.vocab (the very labels the screens show), the report's own texts from the lazy strings below.
Nothing here is written in French or Arabic but the Arabic quarter ordinals.

`report_labels()` renders every label in both languages: {vocabulary: {code: (french, arabic)}}, where the
vocabularies are category, sector, region, gender, language, certificates, and "text" for the report's
own texts. `merge_labels(overrides)` replaces some of them, with the same shape, e.g.
    {"region": {"oriental": ("Oriental", "الشرق")}, "text": {"title": ("Rapport", "تقرير")}}
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, has_app_context
from flask_babel import Babel, force_locale
from flask_babel import lazy_gettext as _l

from governance.rules import Quarter
from skills.vocab import CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES

Pair = tuple[str, str]  # (French, Arabic)
Labels = Mapping[str, Mapping[str, Pair]]  # {vocabulary: {code: pair}}, as report_labels() gives
LANGUAGES = ("fr", "ar")

# Codes the figures use beside the vocabularies: people whose gender or training language is not known
# (the two French labels agree with different nouns: genre, langue).
NOT_STATED = {"gender": _l("Not stated"), "language": _l("Not stated (language)")}

CERTIFICATE_EVENTS = {
    "issued": _l("Issued (certificates)"),
    "revoked": _l("Revoked (certificates)"),
    "expired": _l("Expired (certificates)"),
    "verifications": _l("Verifications"),
}

TEXTS = {
    "programme": _l("Kafaa · National register of AI training"),
    "title": _l("Quarterly report"),
    "quarter": _l("Quarter"),
    "as_of": _l("Situation as of"),
    "trained": _l("People trained"),
    "target": _l("Target"),
    "rate": _l("Rate of achievement"),
    "change": _l("Change"),
    "since": _l("since"),
    "previous": _l("Previous quarter"),
    "progress": _l("Progress toward the target"),
    "by_category": _l("By category"),
    "by_sector": _l("By sector"),
    "by_region": _l("By region"),
    "by_gender": _l("By gender"),
    "by_language": _l("By training language"),
    "category": _l("Category"),
    "sector": _l("Sector"),
    "region": _l("Region"),
    "gender": _l("Gender"),
    "language": _l("Language"),
    "count": _l("Headcount"),
    "code": _l("Code"),
    "trend": _l("People trained per quarter"),
    "certificates": _l("Certificates"),
    "number": _l("Number"),
    "value": _l("Value"),
    "cohorts": _l("Cohorts"),
    "attendance": _l("Attendance rate"),
    "completion": _l("Completion"),
    "corrections": _l("Corrections"),
    "corrections_note": _l("Figures of closed quarters changed since they were closed"),
    "no_corrections": _l("No corrections"),
    "figure": _l("Indicator"),
    "closed": _l("At closing"),
    "now": _l("Current"),
    "difference": _l("Difference"),
    "no_cohorts": _l("No cohort this quarter"),
    "pathway": _l("Pathway"),
    "level": _l("Level"),
    "tracks": _l("Tracks"),
    "holding": _l("Holding it"),
    "moved_in": _l("Moved up into it this quarter"),
    "recognised": _l("Trained through recognition of prior learning"),
    "pathway_note": _l("Only tracks that count toward the target; a person holding several levels counts in each"),
    # Notes are printed after their symbol ("<5 : ...", "— : ..."), which is drawn apart from the
    # Arabic so that bidi reordering cannot turn "<5" around; keep brackets out of Arabic texts.
    "small_note": _l("count from 1 to 4, hidden to protect people"),
    "complementary_note": _l("count of 5 or more, hidden so that a count from 1 to 4 cannot be worked out"),
    "withheld_note": _l("table withheld: otherwise a count from 1 to 4 could be worked out"),
    "bar_note": _l("Light bar: count <5, drawn at 2.5"),
    "change_note": _l("change hidden: a count <5 in one of the two quarters, or a change of 1 to 4"),
    "trend_note": _l("Last quarters only; the Tendance sheet of the workbook has them all"),
    "page": _l("page"),
}

VOCABULARIES: dict[str, Mapping[str, Any]] = {
    "category": CATEGORIES,
    "sector": SECTORS,
    "region": REGIONS,
    "gender": {**GENDERS, "unknown": NOT_STATED["gender"]},
    "language": {**TRAINING_LANGUAGES, "unknown": NOT_STATED["language"]},
    "certificates": CERTIFICATE_EVENTS,
    "text": TEXTS,
}

_QUARTER_AR = ("الأول", "الثاني", "الثالث", "الرابع")
# The catalogs, for a report written outside the application (a script, the report's own tests): the
# folder app.py configures as BABEL_TRANSLATION_DIRECTORIES.
_TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


@cache
def _catalogs_only() -> Flask:
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(_TRANSLATIONS)
    Babel(app)
    return app


@contextmanager
def _translating() -> Iterator[None]:
    """The application's catalogs when it is running, else the same catalogs read by a bare app."""
    if has_app_context():
        yield
    else:
        with _catalogs_only().app_context():
            yield


def report_labels() -> dict[str, dict[str, Pair]]:
    """Every label of the report in French and Arabic, from the catalogs."""
    rendered: dict[str, dict[str, list[str]]] = {name: {code: [] for code in entries}
                                                 for name, entries in VOCABULARIES.items()}
    with _translating():
        for language in LANGUAGES:
            with force_locale(language):
                for name, entries in VOCABULARIES.items():
                    for code, label in entries.items():
                        rendered[name][code].append(str(label))
    return {name: {code: (pair[0], pair[1]) for code, pair in entries.items()} for name, entries in rendered.items()}


_rendered = cache(report_labels)  # the catalogs do not change while the process runs


class _Labels(Mapping[str, dict[str, Pair]]):
    """The labels as the report prints them unless overridden (report_labels), rendered when first read:
    for whoever reads a report back and looks for them (tests, scripts)."""

    def __getitem__(self, name: str) -> dict[str, Pair]:
        return _rendered()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(VOCABULARIES)

    def __len__(self) -> int:
        return len(VOCABULARIES)


LABELS: Mapping[str, dict[str, Pair]] = _Labels()


def merge_labels(overrides: Mapping[str, Mapping[str, Sequence[str]]] | None) -> dict[str, dict[str, Pair]]:
    """The catalogs' labels with some replaced: {vocabulary: {code: (french, arabic)}}."""
    merged = report_labels()
    for name, entries in (overrides or {}).items():
        if name not in merged:
            raise ValueError(f"unknown label vocabulary {name!r}: use one of {', '.join(merged)}")
        for code, pair in entries.items():
            if isinstance(pair, str) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
                raise ValueError(f"label {name}.{code} must be a (french, arabic) pair")
            if name == "text" and code not in merged["text"]:
                raise ValueError(f"unknown report text {code!r}")
            merged[name][code] = (pair[0], pair[1])
    return merged


def label(labels: Mapping[str, Mapping[str, Pair]], vocabulary: str, code: str | None) -> Pair:
    """A code's (French, Arabic) labels; an unknown code stands for itself, a missing one is "—"."""
    if code is None or code == "":
        return ("—", "—")
    return labels.get(vocabulary, {}).get(str(code), (str(code), str(code)))


def quarter_ar(quarter: Quarter) -> str:
    return f"{_QUARTER_AR[quarter.number - 1]} من سنة {quarter.year}"
