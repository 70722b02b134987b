"""Forms of the import pages. They check shape only: the file's contents are checked by exchange.imports."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

CHOOSE_A_FILE = _l("Choose a file to import.")


class TraineeImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(CHOOSE_A_FILE)])
    cohort = SelectField(_l("Also enrol everyone in a cohort (optional)"), validate_choice=False)  # checked by the import


class AttendanceImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(CHOOSE_A_FILE)])


class ConfirmImportForm(FlaskForm):
    """The commit step: names the file kept from the dry run."""

    token = HiddenField(validators=[DataRequired()])
