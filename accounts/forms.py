from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField
from wtforms.validators import DataRequired, Optional

from accounts.roles import ROLES
from common.forms import choices


class AcceptNoticeForm(FlaskForm):
    """The privacy notice's checkbox, on the invitation page (account creation) and on the page shown to
    anyone who has not accepted the current notice. The operations check it (accounts.notice.check_accepted),
    so its error shows beside any other."""

    accept_privacy = BooleanField(_l("I have read the privacy notice and I accept it."))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class SetPasswordForm(AcceptNoticeForm):
    """Account creation: the password, and the privacy notice accepted (law 09-08)."""

    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(_l("Repeat the password"), validators=[DataRequired()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(_l("Repeat the password"), validators=[DataRequired()])


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=choices(ROLES))
    trainee_id = IntegerField(_l("Trainee record number (trainee accounts only)"), validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A destructive action's confirmation page: only its CSRF token."""
