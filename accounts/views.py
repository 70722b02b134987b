"""Sign in and out, invitations, language choice, and the admins' account and outbox pages."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from accounts import operations
from accounts.forms import (ConfirmForm, ForgotPasswordForm, InviteForm, LoginForm, ResetPasswordForm,
                            SetPasswordForm)
from accounts.models import ApiToken, OutboxMessage, User
from accounts.permissions import require_role
from common.errors import DomainError, ValidationFailed
from common.extensions import db
from common.forms import apply_errors
from common.i18n import LANGUAGES
from common.redirects import safe_next
from common.security import login_limits, password_reset_refused, start_session
from common.templating import bdi_message

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


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link to choose a new password. The answer is the same page whether or not an account uses
    the address (and whether it is throttled for it or not says nothing either: every request counts)."""
    form = ForgotPasswordForm()
    if request.method == "POST":
        retry_after = password_reset_refused(request.form.get("email", ""))
        if retry_after is not None:
            response = make_response(render_template("accounts/forgot_password.html", form=form, throttled=True), 429)
            response.headers["Retry-After"] = str(retry_after)
            return response
    if form.validate_on_submit():
        try:
            operations.request_password_reset(form.email.data)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            return render_template("accounts/forgot_password_sent.html", minutes=operations.reset_minutes())
    return render_template("accounts/forgot_password.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through the mailed link: once, within the hour. Every other session and API
    token of the account ends; the person then signs in with the new password."""
    form = ResetPasswordForm()
    try:
        reset = operations.password_reset_for(token)
        if form.validate_on_submit():
            operations.reset_password(reset, form.password.data, form.confirm.data)
            db.session.commit()
            logout_user()  # whoever was signed in on this browser: the new password starts afresh
            session.clear()
            flash(_("Your new password is set, and every other session of your account has ended. Sign in "
                    "with it."), "success")
            return redirect(url_for("accounts.login"))
        response = make_response(render_template("accounts/reset_password.html", form=form),
                                 422 if form.errors else 200)
    except operations.ResetLinkUnusable as error:
        db.session.rollback()
        response = make_response(render_template("accounts/reset_password_unusable.html", message=error.message),
                                 error.status)
    except DomainError as error:
        db.session.rollback()
        apply_errors(form, error)
        response = make_response(render_template("accounts/reset_password.html", form=form), 422)
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token never leaves in a Referer header
    return response


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
            flash(bdi_message(_("Invitation sent to %(email)s."), email=user.email), "success")
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
    flash(bdi_message(_("Invitation sent to %(email)s."), email=user.email), "success")
    return redirect(url_for("accounts.users"))


@bp.get("/admin/users/<int:user_id>")
@require_role("admin")
def user(user_id: int):
    """One account: its state, its live API tokens, and what an admin can end."""
    account = db.get_or_404(User, user_id)
    tokens = db.session.scalars(operations.live_tokens(account)).all()
    return render_template("accounts/user.html", account=account, tokens=tokens, form=ConfirmForm())


def _confirmed(account: User, question: str, act, done: str):
    """GET: the confirmation page; POST: do it, audited by the operation, and go back to the account."""
    form = ConfirmForm()
    back = url_for("accounts.user", user_id=account.id)
    if form.validate_on_submit():
        try:
            act()
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(back)
        db.session.commit()
        flash(done, "success")
        return redirect(back)
    return render_template("confirm.html", form=form, back=back, question=question)


@bp.route("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@require_role("admin")
def revoke_token(user_id: int, token_id: int):
    account = db.get_or_404(User, user_id)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == account.id))
    if token is None:
        abort(404)
    return _confirmed(account, _("Revoke API token #%(id)s of %(email)s? Scripts using it stop working at once.",
                                 id=token.id, email=account.email),
                      lambda: operations.revoke_token(current_user, token), _("The token is revoked."))


@bp.route("/admin/users/<int:user_id>/sign-out", methods=["GET", "POST"])
@require_role("admin")
def sign_out_everywhere(user_id: int):
    account = db.get_or_404(User, user_id)
    return _confirmed(account, _("Sign %(email)s out everywhere? Every session ends and every API token is "
                                 "revoked.", email=account.email),
                      lambda: operations.sign_out_everywhere(current_user, account),
                      bdi_message(_("%(email)s is signed out everywhere."), email=account.email))


@bp.route("/admin/users/<int:user_id>/disable", methods=["GET", "POST"])
@require_role("admin")
def disable_user(user_id: int):
    account = db.get_or_404(User, user_id)
    return _confirmed(account, _("Disable the account %(email)s? It can no longer sign in, and its sessions and "
                                 "API tokens end.", email=account.email),
                      lambda: operations.disable_user(current_user, account),
                      bdi_message(_("The account %(email)s is disabled."), email=account.email))


@bp.post("/admin/users/<int:user_id>/enable")
@require_role("admin")
def enable_user(user_id: int):
    account = db.get_or_404(User, user_id)
    operations.enable_user(current_user, account)
    db.session.commit()
    flash(bdi_message(_("The account %(email)s is enabled again."), email=account.email), "success")
    return redirect(url_for("accounts.user", user_id=account.id))


@bp.get("/admin/outbox")
@require_role("admin")
def outbox():
    page = db.paginate(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()), per_page=20)
    # With a mail server, a reset link is for its mailbox only: shown here, any admin could take the account.
    # Without one (the demo), this page is the only mailbox, so links stay readable.
    hide = bool(current_app.config.get("MAIL_SERVER"))
    bodies = {m.id: RESET_LINK.sub(r"\1…", m.body) if hide else m.body for m in page.items}
    return render_template("accounts/outbox.html", page=page, bodies=bodies)


RESET_LINK = re.compile(r"(/password/reset/)\S+")
