from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField
from wtforms.validators import DataRequired, Optional

from privacy.forms import AcceptNoticeForm
from skills.forms import choices
from skills.vocab import ROLES


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class SetPasswordForm(AcceptNoticeForm):
    """Account creation: the password, and the privacy notice accepted (law 09-08)."""

    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(_l("Repeat the password"), validators=[DataRequired()])


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=choices(ROLES))
    trainee_id = IntegerField(_l("Trainee record number (trainee accounts only)"), validators=[Optional()])
