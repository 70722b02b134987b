from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class RevokeForm(FlaskForm):
    reason = StringField(_l("Reason for revocation (internal: admins only)"), validators=[DataRequired(), Length(max=500)])
    message = TextAreaField(_l("Message to the holder (optional)"), validators=[Optional(), Length(max=500)])


class ReinstateForm(FlaskForm):
    reason = StringField(_l("Why the revocation is lifted"), validators=[DataRequired(), Length(max=500)])
    confirm = BooleanField(_l("I confirm: this certificate becomes valid again for anyone who checks it."),
                           validators=[DataRequired()])
