"""Flask-WTF forms of the registry. They check shape only; the rules live in operations and validation,
whose errors are placed back on these fields (common.forms.apply_errors)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Optional

from common.forms import choices
from skills.vocab import CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES


class ModuleForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired()])
    title_fr = StringField(_l("Title in French"), validators=[DataRequired()])
    title_ar = StringField(_l("Title in Arabic"), validators=[DataRequired()])
    title_en = StringField(_l("Title in English"), validators=[DataRequired()])
    hours = DecimalField(_l("Hours"), validators=[DataRequired()])

    def to_data(self) -> dict:
        return {"code": self.code.data, "hours": self.hours.data,
                "title": {"fr": self.title_fr.data, "ar": self.title_ar.data, "en": self.title_en.data}}


class TrackForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired()])
    title_fr = StringField(_l("Title in French"), validators=[DataRequired()])
    title_ar = StringField(_l("Title in Arabic"), validators=[DataRequired()])
    title_en = StringField(_l("Title in English"), validators=[DataRequired()])
    title_zgh = StringField(_l("Title in Tamazight (Tifinagh, optional)"), validators=[Optional()])
    modules = SelectMultipleField(_l("Required modules"), validators=[DataRequired()])
    requires = SelectMultipleField(_l("Prerequisites: tracks whose valid certificate is required first"),
                                   validators=[Optional()])
    min_attendance = DecimalField(_l("Minimum attendance (%)"), default=80, validators=[DataRequired()])
    validity_months = IntegerField(_l("Validity in months (empty: no expiry)"), validators=[Optional()])

    def to_data(self) -> dict:
        minimum = self.min_attendance.data
        return {"code": self.code.data, "modules": self.modules.data, "requires": self.requires.data or [],
                "title": {"fr": self.title_fr.data, "ar": self.title_ar.data, "en": self.title_en.data,
                          "zgh": self.title_zgh.data or None},
                "min_attendance": None if minimum is None else minimum / 100,
                "validity_months": self.validity_months.data}


class TraineeForm(FlaskForm):
    name = StringField(_l("Name (Latin script)"), validators=[DataRequired()])
    name_ar = StringField(_l("Name (Arabic script)"), validators=[DataRequired()])
    name_tfng = StringField(_l("Name (Tifinagh, optional)"), validators=[Optional()])
    email = EmailField(_l("Email"), validators=[DataRequired()])
    category = SelectField(_l("Category"), choices=choices(CATEGORIES))
    sector = SelectField(_l("Sector"), choices=choices(SECTORS))
    region = SelectField(_l("Region"), choices=choices(REGIONS))
    gender = SelectField(_l("Gender"), choices=choices(GENDERS, blank=_l("Not stated")))
    employer = StringField(_l("Employer"), validators=[Optional()])

    def to_data(self) -> dict:
        return {name: (self[name].data or None) if name in ("gender", "name_tfng") else self[name].data
                for name in ("name", "name_ar", "name_tfng", "email", "category", "sector", "region", "gender",
                             "employer")}


class CohortForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired()])
    track = SelectField(_l("Track"))
    sector = SelectField(_l("Sector"), choices=choices(SECTORS))
    region = SelectField(_l("Region"), choices=choices(REGIONS))
    language = SelectField(_l("Training language"), choices=choices(TRAINING_LANGUAGES))
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    trainers = SelectMultipleField(_l("Trainers"))

    def to_data(self) -> dict:
        return {name: self[name].data for name in ("code", "track", "sector", "region", "language", "starts_on",
                                                   "ends_on", "trainers")}


class EnrolForm(FlaskForm):
    trainee_id = IntegerField(_l("Trainee record number"), validators=[DataRequired()])


class SessionForm(FlaskForm):
    module = SelectField(_l("Module"))
    starts_at = DateTimeLocalField(_l("Starts at (Morocco time)"), validators=[DataRequired()])
    hours = DecimalField(_l("Duration in hours"), default=3, validators=[DataRequired()])


class RecognitionForm(FlaskForm):
    module = SelectField(_l("Module"))
    reason = StringField(_l("Why it is recognised (the learning it stands for)"), validators=[DataRequired()])
    evidence = StringField(_l("Evidence (document, institution, date; optional)"), validators=[Optional()])

    def to_data(self) -> dict:
        return {"module": self.module.data, "reason": self.reason.data, "evidence": self.evidence.data or ""}


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token is the confirmation."""
