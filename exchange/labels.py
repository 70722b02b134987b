"""What people read in a spreadsheet: each column's heading and each code's label, in their language.

One table for the exports (which write them unless asked for codes), the imports (which read a heading in
any language as its column, imports.columns) and the sample files. Codes are the stable names scripts use:
`?headers=codes` on an export writes the codes alone, as before labels existed.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from certificates.vocab import STATUS_LABELS
from skills.vocab import ATTENDANCE_STATUSES, CATEGORIES, GENDERS, REGIONS, SECTORS

HEADINGS = {
    "id": _l("No."),
    "trainee_id": _l("Trainee no."),
    "session_id": _l("Session no."),
    "name": _l("Name"),
    "name_ar": _l("Name in Arabic"),
    "name_tfng": _l("Name in Tifinagh"),
    "email": _l("Email"),
    "category": _l("Category"),
    "sector": _l("Sector"),
    "region": _l("Region"),
    "gender": _l("Gender"),
    "employer": _l("Employer"),
    "updated_at": _l("Last updated"),
    "cohort": _l("Cohort"),
    "module": _l("Module"),
    "starts_at": _l("Session start"),
    "status": _l("Status"),
    "source": _l("Recorded by"),
    "recorded_at": _l("Recorded at"),
    "passed": _l("Module passed"),
    "score": _l("Score"),
    "serial": _l("Serial number"),
    "holder": _l("Holder"),
    "holder_ar": _l("Holder in Arabic"),
    "holder_tfng": _l("Holder in Tifinagh"),
    "track": _l("Track"),
    "issued_on": _l("Issued on"),
    "expires_on": _l("Expires on"),
    "revoked_at": _l("Revoked at"),
    "revocation_reason": _l("Reason for revocation"),
    "superseded_by": _l("Replaced by"),
}

ATTENDANCE_SOURCES = {"manual": _l("The trainer"), "checkin": _l("Self check-in")}
YES_NO = {True: _l("Yes"), False: _l("No")}

# The codes a column holds, by column (certificate and attendance statuses differ: see values_of).
VALUES: dict[str, Mapping[Any, Any]] = {
    "category": CATEGORIES, "sector": SECTORS, "region": REGIONS, "gender": GENDERS, "source": ATTENDANCE_SOURCES,
    "passed": YES_NO,
}


def values_of(kind: str, column: str) -> Mapping[Any, Any] | None:
    """The labels of a column's codes in an export of `kind`, or None when its values are not codes."""
    if column == "status":
        return STATUS_LABELS if kind == "certificates" else ATTENDANCE_STATUSES
    return VALUES.get(column)


def headings(columns: tuple[str, ...] | list[str]) -> list[str]:
    """The columns' headings in the current language (as plain text, to outlive the request)."""
    return [str(HEADINGS[column]) for column in columns]
