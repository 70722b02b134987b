"""Columns and vocabularies: a file's headers matched to fields, and its values to vocabulary codes.

Headers are matched without regard to case, accents or spacing: the column's code, its French name and
aliases below, or its heading in any language as exports write it (exchange.labels); vocabulary values may
be given as codes or as their labels in French, Arabic or English.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

from flask_babel import force_locale, lazy_gettext as _l

from common.i18n import LANGUAGES
from exchange.imports.faults import refuse
from exchange.labels import HEADINGS
from exchange.imports.readers import Table
from skills.vocab import ATTENDANCE_STATUSES, CATEGORIES, GENDERS, REGIONS, SECTORS

_NOT_WORD = re.compile(r"[\W_]+")


def normalise(value: str) -> str:
    """A key for lenient matching: no accents or case, any run of spaces and punctuation as one dash."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub("-", bare.casefold()).strip("-")


@dataclass(frozen=True)
class Column:
    field: str
    english: str
    french: str
    aliases: tuple[str, ...] = ()


TRAINEE_COLUMNS = (
    Column("name", "name", "nom"),
    Column("email", "email", "courriel", ("e-mail", "mail", "adresse email", "adresse électronique")),
    Column("category", "category", "catégorie"),
    Column("sector", "sector", "secteur"),
    Column("region", "region", "région"),
    Column("name_ar", "name_ar", "nom_ar", ("nom arabe",)),
    Column("name_tfng", "name_tfng", "nom_tfng", ("nom tifinagh",)),
    Column("gender", "gender", "genre", ("sexe",)),
    Column("employer", "employer", "employeur"),
)

ATTENDANCE_COLUMNS = (
    Column("trainee_id", "trainee_id", "n°", ("id", "no", "numéro", "n° stagiaire")),
    Column("email", "email", "courriel", ("e-mail", "mail", "adresse email", "adresse électronique")),
    Column("status", "status", "statut", ("présence",)),
    Column("session_id", "session_id", "séance", ("session",)),
)

# Spellings accepted beside each code and its labels in French, Arabic and English (from the catalogs).
EXTRA_VALUES = {
    "category": {"engineer": ("ingénieure",), "researcher": ("chercheuse",)},
    "gender": {"f": ("féminin", "female", "w", "أنثى"), "m": ("h", "masculin", "male", "ذكر")},
    "status": {"present": ("p", "présente"), "late": ("retard", "r", "l"), "excused": ("excusée", "e"),
               "absent": ("absente", "a")},
}
VOCABULARIES = {"category": CATEGORIES, "sector": SECTORS, "region": REGIONS, "gender": GENDERS,
                "status": ATTENDANCE_STATUSES}


def value_aliases(name: str) -> dict[str, str]:
    """normalised spelling -> code, for one vocabulary: its codes, its labels in every language, and the
    extra spellings above. A value found nowhere is passed on as written, for the operation to refuse."""
    vocabulary = VOCABULARIES[name]
    aliases: dict[str, str] = {}
    for code in vocabulary:
        aliases[normalise(code)] = code
    for lang in LANGUAGES:
        with force_locale(lang):
            for code, label in vocabulary.items():
                aliases.setdefault(normalise(str(label)), code)
    for code, spellings in EXTRA_VALUES.get(name, {}).items():
        for spelling in spellings:
            aliases.setdefault(normalise(spelling), code)
    return aliases


def _header_key(text: str) -> str:
    return normalise(text).replace("-", "_")


@dataclass
class Columns:
    index: dict[str, int]  # field -> position in a row
    names: dict[str, str]  # field -> its header as written in the file (or as it would be, when missing)
    ignored: list[str]

    def value(self, cells: list[str | None], name: str) -> str | None:
        position = self.index.get(name)
        return cells[position] if position is not None and position < len(cells) else None


def _headings(column: Column) -> list[str]:
    """The column's heading in every language, as an export writes it."""
    spellings = []
    for lang in LANGUAGES:
        with force_locale(lang):
            spellings.append(str(HEADINGS[column.field]))
    return spellings


def map_columns(table: Table, spec: Iterable[Column]) -> Columns:
    spec = list(spec)
    lookup = {_header_key(spelling): column for column in spec
              for spelling in (column.english, column.french, *column.aliases)}
    for column in spec:
        for spelling in _headings(column):
            lookup.setdefault(_header_key(spelling), column)
    french_only = {_header_key(column.french) for column in spec} - {_header_key(column.english) for column in spec}
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    french = False
    for position, header in enumerate(table.headers):
        if header is None:
            continue
        column = lookup.get(_header_key(header))
        if column is None:
            ignored.append(header)
            continue
        if column.field in index:
            raise refuse(_l("The columns “%(first)s” and “%(second)s” say the same thing: keep one of them.",
                            first=names[column.field], second=header), row=table.header_row, column=header)
        index[column.field], names[column.field] = position, header
        french = french or _header_key(header) in french_only
    for column in spec:
        names.setdefault(column.field, column.french if french else column.english)
    return Columns(index=index, names=names, ignored=ignored)


def sorted_faults(errors: list[dict[str, Any]], columns: Columns, spec: Iterable[Column]) -> list[dict[str, Any]]:
    """By row, then by column as the file orders them (columns it lacks last, in the spec's order)."""
    order = {columns.names[c.field]: columns.index.get(c.field, 1000 + i) for i, c in enumerate(spec)}
    return sorted(errors, key=lambda e: (e["row"] or 0, order.get(e["column"], 2000)))
