"""The programme's closed vocabularies: codes stored in the database, labels shown to people.

One place for each list; forms, API validation, imports and the dashboard all read it from here.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "engineer": _l("Engineer"),
    "researcher": _l("Researcher"),
    "official": _l("Civil servant"),
}

SECTORS = {
    "health": _l("Health"),
    "education": _l("Education"),
    "justice": _l("Justice"),
    "agriculture": _l("Agriculture"),
    "administration": _l("Administration"),
    "other": _l("Other"),
}

# Morocco's twelve regions (2015 division), by slug.
REGIONS = {
    "tanger-tetouan-al-hoceima": _l("Tanger-Tétouan-Al Hoceïma"),
    "oriental": _l("Oriental"),
    "fes-meknes": _l("Fès-Meknès"),
    "rabat-sale-kenitra": _l("Rabat-Salé-Kénitra"),
    "beni-mellal-khenifra": _l("Béni Mellal-Khénifra"),
    "casablanca-settat": _l("Casablanca-Settat"),
    "marrakech-safi": _l("Marrakech-Safi"),
    "draa-tafilalet": _l("Drâa-Tafilalet"),
    "souss-massa": _l("Souss-Massa"),
    "guelmim-oued-noun": _l("Guelmim-Oued Noun"),
    "laayoune-sakia-el-hamra": _l("Laâyoune-Sakia El Hamra"),
    "dakhla-oued-ed-dahab": _l("Dakhla-Oued Ed-Dahab"),
}

TRAINING_LANGUAGES = {
    "fr": _l("French"),
    "ar": _l("Arabic"),
    "ary": _l("Darija"),
    "zgh": _l("Amazigh"),
    "en": _l("English"),
}

GENDERS = {"f": _l("Woman"), "m": _l("Man")}

ATTENDANCE_STATUSES = {
    "present": _l("Present"),
    "late": _l("Late"),
    "excused": _l("Excused"),
    "absent": _l("Absent"),
}

