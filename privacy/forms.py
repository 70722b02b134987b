from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from common.forms import choices
from privacy.models import CORRECTION_FIELDS


class CorrectionForm(FlaskForm):
    field = SelectField(_l("What is wrong"), choices=choices(CORRECTION_FIELDS))
    value = StringField(_l("The correct value"))
    reason = TextAreaField(_l("Why (optional)"))

    def to_data(self) -> dict:
        return {"field": self.field.data, "value": self.value.data, "reason": self.reason.data}


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note to the trainee (required to reject)"))


