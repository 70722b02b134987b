from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from privacy.models import CORRECTION_FIELDS
from skills.forms import choices


class AcceptNoticeForm(FlaskForm):
    """The privacy notice's checkbox, on the invitation page (account creation) and on the page shown to
    anyone who has not accepted the current notice. The operations check it (privacy.notice.check_accepted),
    so its error shows beside any other."""

    accept_privacy = BooleanField(_l("I have read the privacy notice and I accept it."))


class CorrectionForm(FlaskForm):
    field = SelectField(_l("What is wrong"), choices=choices(CORRECTION_FIELDS))
    value = StringField(_l("The correct value"))
    reason = TextAreaField(_l("Why (optional)"))

    def to_data(self) -> dict:
        return {"field": self.field.data, "value": self.value.data, "reason": self.reason.data}


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note to the trainee (required to reject)"))


