"""The roles a user can have. Every package reads them from here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLES = {
    "admin": _l("Administrator"),
    "trainer": _l("Trainer"),
    "governance": _l("Governance cell"),
    "trainee": _l("Trainee"),
}

STAFF = ("admin", "trainer", "governance")
