from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange


class TargetsForm(FlaskForm):
    total = IntegerField(_l("People to train in all"), validators=[InputRequired(), NumberRange(min=0)])
    engineer = IntegerField(_l("Engineers"), validators=[InputRequired(), NumberRange(min=0)])
    researcher = IntegerField(_l("Researchers"), validators=[InputRequired(), NumberRange(min=0)])
    official = IntegerField(_l("Civil servants"), validators=[InputRequired(), NumberRange(min=0)])
