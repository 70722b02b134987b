from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class CodeForm(FlaskForm):
    serial = StringField(_l("Serial number"), validators=[DataRequired(), Length(max=20)],
                         render_kw={"placeholder": "KF-2026-000123", "autocapitalize": "characters"})
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"placeholder": "XXXX-XXXX", "autocapitalize": "characters"})


class PdfCheckForm(FlaskForm):
    pdf = FileField(_l("Certificate PDF file"), validators=[FileRequired()])


class RevokeForm(FlaskForm):
    reason = StringField(_l("Reason for revocation"), validators=[DataRequired(), Length(max=500)])


class ReinstateForm(FlaskForm):
    reason = StringField(_l("Why the revocation is lifted"), validators=[DataRequired(), Length(max=500)])
    confirm = BooleanField(_l("I confirm: this certificate becomes valid again for anyone who checks it."),
                           validators=[DataRequired()])
