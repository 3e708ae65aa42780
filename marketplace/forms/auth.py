"""Account forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from marketplace.models.organizations import ORG_KINDS, SIZE_CLASSES, SUB_PARKS
from marketplace.vocabulary import ORG_KIND_LABELS, SIZE_CLASS_LABELS, SUB_PARK_LABELS

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in"))


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password = PasswordField(_l("Password (at least 12 characters)"),
                             validators=[DataRequired(REQUIRED), Length(max=200)])
    confirm = PasswordField(_l("Repeat password"),
                            validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))])
    org_kind = SelectField(_l("Organisation type"), validators=[Optional()],
                           choices=[("", _l("I will join an organisation later"))]
                           + [(k, ORG_KIND_LABELS[k]) for k in ORG_KINDS if k != "operator"])
    org_name_zh = StringField(_l("Organisation name (Chinese)"), validators=[Optional(), Length(max=200)])
    org_name_en = StringField(_l("Organisation name (English)"), validators=[Optional(), Length(max=200)])
    org_uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    org_sub_park = SelectField(_l("Sub-park"), validators=[Optional()],
                               choices=[("", "—")] + [(k, SUB_PARK_LABELS[k]) for k in SUB_PARKS])
    org_size_class = SelectField(_l("Size"), validators=[Optional()],
                                 choices=[("", "—")] + [(k, SIZE_CLASS_LABELS[k]) for k in SIZE_CLASSES])
    org_registered_in_park = BooleanField(_l("Registered in the park"))
