"""Privacy pages: the public notice, the notice to accept after sign-in, a person's data (export button,
correction requests) and the admins' correction queue."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from accounts.forms import AcceptNoticeForm
from accounts.notice import has_accepted_current, notice_context
from accounts.operations import accept_notice
from accounts.permissions import require_role
from common.errors import DomainError
from common.extensions import db
from common.i18n import is_public_page, public_page
from common.forms import apply_errors
from common.redirects import safe_next
from privacy import operations, queries
from privacy.forms import CorrectionForm, DecisionForm
from privacy.loaders import get_correction_or_404
from privacy.models import CORRECTION_FIELDS, CORRECTION_STATUSES, NAME_FIELDS, CorrectionRequest
from privacy.serializers import export_response

bp = Blueprint("privacy", __name__)

# Pages a signed-in person who has not accepted the current notice may still open: the notice itself,
# signing out, changing language. The JSON API is never held back (see privacy.api).
OPEN_BEFORE_ACCEPTANCE = {"static", "privacy.notice", "privacy.accept", "accounts.logout", "accounts.set_language"}


@bp.before_app_request
def ask_to_accept_notice():
    """A person whose account was made without them (import, demo, command line) or who accepted an
    older notice is asked once, before anything else. Public pages are never held back: they read no
    session (common.i18n.public_page), so they cannot know who is signed in."""
    if request.path.startswith("/api/") or request.endpoint in OPEN_BEFORE_ACCEPTANCE or is_public_page():
        return None
    if current_user.is_authenticated and not has_accepted_current(current_user):
        return redirect(url_for("privacy.accept", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    return None


@bp.app_context_processor
def privacy_settings():
    return {"privacy_notice": notice_context}


@public_page
@bp.get("/privacy")
def notice():
    return render_template("privacy/notice.html")


@bp.route("/privacy/accept", methods=["GET", "POST"])
@require_role()
def accept():
    form = AcceptNoticeForm()
    if form.validate_on_submit():
        try:
            accept_notice(current_user, form.accept_privacy.data)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
            return render_template("privacy/accept.html", form=form), error.status
        db.session.commit()
        return redirect(safe_next(request.args.get("next")))
    return render_template("privacy/accept.html", form=form)


@bp.get("/me/export")
@require_role()
def export_mine():
    return export_response(current_user)


def _trainee_or_404():
    if current_user.trainee_id is None:
        return render_template("errors/error.html", status=404, message=str(operations.NOT_A_TRAINEE)), 404
    return None


@bp.route("/me/data", methods=["GET", "POST"])
@require_role("trainee")
def my_data():
    missing = _trainee_or_404()
    if missing:
        return missing
    form = CorrectionForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.request_correction(current_user, form.to_data())
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(_("Your request is sent. You will receive an email when an administrator has answered."),
                  "success")
            return redirect(url_for("privacy.my_data"))
    page = db.paginate(queries.corrections(trainee_id=current_user.trainee_id), per_page=20)
    return render_template("privacy/my_data.html", form=form, page=page, trainee=current_user.trainee,
                           FIELDS=CORRECTION_FIELDS, STATUSES=CORRECTION_STATUSES), status


@bp.get("/admin/corrections")
@require_role("admin")
def corrections():
    status = request.args.get("status", "pending")
    query = queries.corrections(status if status in CORRECTION_STATUSES else None)
    page = db.paginate(query.options(selectinload(CorrectionRequest.trainee)), per_page=25)  # one query for the names
    return render_template("privacy/corrections.html", page=page, status=status, FIELDS=CORRECTION_FIELDS,
                           STATUSES=CORRECTION_STATUSES)


def _render_correction(correction, form=None, status: int = 200):
    reissues = (operations.current_valid_certificates(correction.trainee_id)
                if correction.field in NAME_FIELDS and correction.status == "pending" else [])
    return render_template("privacy/correction.html", correction=correction, form=form or DecisionForm(),
                           reissues=reissues, FIELDS=CORRECTION_FIELDS, STATUSES=CORRECTION_STATUSES), status


@bp.get("/admin/corrections/<int:correction_id>")
@require_role("admin")
def correction(correction_id: int):
    """The request with what approving it would do: this page is the confirmation step."""
    return _render_correction(get_correction_or_404(correction_id))


def _decide(correction_id: int, decide, success: str):
    correction = get_correction_or_404(correction_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decide(correction, form.note.data)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
            return _render_correction(correction, form, error.status)
        db.session.commit()
        flash(success, "success")
        return redirect(url_for("privacy.corrections"))
    return _render_correction(correction, form, 422)


@bp.post("/admin/corrections/<int:correction_id>/approve")
@require_role("admin")
def approve(correction_id: int):
    return _decide(correction_id, lambda c, note: operations.approve_correction(current_user, c, note),
                   _("The correction is applied and the trainee has been told."))


@bp.post("/admin/corrections/<int:correction_id>/reject")
@require_role("admin")
def reject(correction_id: int):
    return _decide(correction_id, lambda c, note: operations.reject_correction(current_user, c, note),
                   _("The request is rejected and the trainee has been told."))
