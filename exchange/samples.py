"""Files to fill in, offered on the import pages: a sample trainee file with two example rows, and a session's
roster ready for its attendance. Headed in French, as the exports write French (exchange.labels); the
imports read headings in Arabic and English too. Values are written as their French labels, which the
imports read back as codes."""
from __future__ import annotations

from typing import Any

from flask_babel import force_locale

from common.extensions import db
from exchange.labels import headings, values_of
from skills import queries
from skills.models import TrainingSession

SAMPLE_LANGUAGE = "fr"

TRAINEE_SAMPLE_COLUMNS = ("name", "name_ar", "name_tfng", "email", "category", "sector", "region", "gender",
                          "employer")
# Two people who do not exist, written with codes; their labels are put in when the file is made.
TRAINEE_SAMPLE_ROWS = (
    ("Salma Benali", "سلمى بنعلي", "ⵙⴰⵍⵎⴰ ⴱⵏⵄⵍⵉ", "salma.benali@exemple.ma", "engineer", "health",
     "rabat-sale-kenitra", "f", "Ministère de la Santé"),
    ("Youssef El Amrani", "يوسف العمراني", None, "youssef.elamrani@exemple.ma", "official", "justice",
     "fes-meknes", "m", "Ministère de la Justice"),
)
TRAINEE_SAMPLE_WIDTHS = (24, 24, 20, 30, 14, 14, 24, 10, 28)

ATTENDANCE_TEMPLATE_COLUMNS = ("trainee_id", "name", "email", "status")
ATTENDANCE_TEMPLATE_WIDTHS = (12, 30, 32, 14)


def _labelled(columns: tuple[str, ...], rows) -> list[list[Any]]:
    labels = [values_of("trainees", column) or {} for column in columns]
    return [[str(labels[i][value]) if value in labels[i] else value for i, value in enumerate(row)] for row in rows]


def trainee_sample() -> tuple[list[str], list[list[Any]]]:
    """The headings and the two example rows of the sample trainee file."""
    with force_locale(SAMPLE_LANGUAGE):
        return headings(TRAINEE_SAMPLE_COLUMNS), _labelled(TRAINEE_SAMPLE_COLUMNS, TRAINEE_SAMPLE_ROWS)


def attendance_template(session: TrainingSession) -> tuple[list[str], list[list[Any]]]:
    """The session's roster (number, name, email) with an empty status column to fill in."""
    trainees = db.session.scalars(queries.cohort_roster(session.cohort_id))
    rows = [[t.id, t.name, t.email, None] for t in trainees]
    with force_locale(SAMPLE_LANGUAGE):
        return headings(ATTENDANCE_TEMPLATE_COLUMNS), rows
