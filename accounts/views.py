"""Sign in and out, invitations, language choice, and the admins' account and outbox pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from accounts import operations
from accounts.forms import InviteForm, LoginForm, SetPasswordForm
from accounts.models import OutboxMessage, User
from accounts.permissions import require_role
from common.errors import DomainError, ValidationFailed
from common.extensions import db
from common.forms import apply_errors
from common.i18n import LANGUAGES
from common.redirects import safe_next
from common.security import login_limits, start_session

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("skills.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = operations.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()
            form.password.errors.append(str(operations.WRONG_CREDENTIALS))
        else:
            session.clear()  # a fresh session on login: no fixation
            operations.start_web_session(user)
            login_user(user)
            start_session()
            if user.locale:
                session["lang"] = user.locale
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        operations.end_web_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        user = operations.user_for_invitation(token)
    except ValidationFailed as error:
        return render_template("errors/error.html", status=400, message=error.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            operations.accept_invitation(user, form.password.data, form.confirm.data, form.accept_privacy.data)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            session.clear()
            operations.start_web_session(user)
            db.session.commit()
            login_user(user)
            start_session()
            flash(_("Your password is set. Welcome to Kafaa."), "success")
            return redirect(url_for("skills.home"))
    return render_template("accounts/invitation.html", form=form, user=user)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            operations.set_locale(current_user, lang)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")))


@bp.route("/admin/users", methods=["GET", "POST"])
@require_role("admin")
def users():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = operations.create_user(current_user, form.email.data, form.role.data,
                                          trainee_id=form.trainee_id.data)
            operations.invite(current_user, user)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.users"))
    q = request.args.get("q", "").strip().lower()
    query = sa.select(User).order_by(User.email)
    if q:
        query = query.where(User.email.like(f"%{q}%"))
    page = db.paginate(query, per_page=25)
    return render_template("accounts/users.html", form=form, page=page, q=q)


@bp.post("/admin/users/<int:user_id>/invite")
@require_role("admin")
def reinvite(user_id: int):
    user = db.get_or_404(User, user_id)
    operations.invite(current_user, user)
    db.session.commit()
    flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("accounts.users"))


@bp.get("/admin/outbox")
@require_role("admin")
def outbox():
    page = db.paginate(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()), per_page=20)
    return render_template("accounts/outbox.html", page=page)
