"""Dates as printed on PDFs (certificates, reports): in French and in Arabic as written in Morocco, and in
Tamazight (Tifinagh, month names as in CLDR's zgh locale).
Pure functions: no Flask, so PDF code can use them anywhere."""
from __future__ import annotations

from datetime import date

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")
MONTHS_AR = ("يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت",
             "شتنبر", "أكتوبر", "نونبر", "دجنبر")
MONTHS_ZGH = ("ⵉⵏⵏⴰⵢⵔ", "ⴱⵕⴰⵢⵕ", "ⵎⴰⵕⵚ", "ⵉⴱⵔⵉⵔ", "ⵎⴰⵢⵢⵓ", "ⵢⵓⵏⵢⵓ", "ⵢⵓⵍⵢⵓⵣ", "ⵖⵓⵛⵜ",
              "ⵛⵓⵜⴰⵏⴱⵉⵔ", "ⴽⵜⵓⴱⵔ", "ⵏⵓⵡⴰⵏⴱⵉⵔ", "ⴷⵓⵊⴰⵏⴱⵉⵔ")


def date_fr(day: date) -> str:
    return f"{day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def date_ar(day: date) -> str:
    return f"{day.day} {MONTHS_AR[day.month - 1]} {day.year}"


def date_zgh(day: date) -> str:
    return f"{day.day} {MONTHS_ZGH[day.month - 1]} {day.year}"
