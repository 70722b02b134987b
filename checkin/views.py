"""The trainer's projector screen with its live roster, and the trainee's check-in pages."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.permissions import require_role
from checkin import operations
from checkin.codes import shown_code
from common.errors import DomainError
from common.extensions import db
from skills import queries
from skills.forms import ConfirmForm
from skills.loaders import get_cohort_or_404, get_session_or_404
from skills.models import TrainingSession
from skills.vocab import ATTENDANCE_STATUSES

bp = Blueprint("checkin", __name__)


def _managed_session(code: str, session_id: int):
    cohort = get_cohort_or_404(code, manage=True)
    return cohort, get_session_or_404(session_id, cohort=cohort)


def roster_state(cohort, session) -> dict:
    """Who has checked in and who has not: for the live roster."""
    records = {a.trainee_id: a for a in db.session.scalars(queries.session_attendance(session.id))}
    people = db.session.scalars(queries.cohort_roster(cohort.id)).all()
    return {"present": sum(1 for t in people if t.id in records), "enrolled": len(people),
            "roster": [{"id": t.id, "name": t.name, "name_ar": t.name_ar,
                        "status": records[t.id].status if t.id in records else None,
                        "status_label": str(ATTENDANCE_STATUSES[records[t.id].status]) if t.id in records else None,
                        "source": records[t.id].source if t.id in records else None} for t in people]}


@bp.route("/cohorts/<code>/sessions/<int:session_id>/checkin", methods=["GET", "POST"])
@require_role("admin", "trainer")
def projector(code: str, session_id: int):
    """The screen for the projector: a rotating QR code and typed code beside the live roster.
    POST opens check-in (with the trainer's grace period); GET only shows."""
    cohort, session = _managed_session(code, session_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            operations.open_checkin(current_user, session, request.form.get("late_after_minutes", 15))
        except DomainError as error:
            db.session.rollback()
            flash(" ".join(str(m) for ms in error.fields.values() for m in ms) or str(error.message), "error")
        else:
            db.session.commit()
        return redirect(url_for("checkin.projector", code=code, session_id=session.id))
    state = roster_state(cohort, session)
    current = shown_code(session, with_qr=True) if session.checkin_opened_at is not None else None
    return render_template("checkin/projector.html", cohort=cohort, session=session, form=form, current=current,
                           **state)


@bp.get("/cohorts/<code>/sessions/<int:session_id>/checkin/state")
@require_role("admin", "trainer")
def projector_state(code: str, session_id: int):
    """What the projector screen polls to update itself without a reload."""
    cohort, session = _managed_session(code, session_id)
    body = roster_state(cohort, session)
    body["open"] = session.checkin_opened_at is not None
    if body["open"]:
        body.update(shown_code(session, with_qr=True))
    return body, 200, {"Cache-Control": "no-store"}


@bp.route("/cohorts/<code>/sessions/<int:session_id>/checkin/close", methods=["GET", "POST"])
@require_role("admin", "trainer")
def close(code: str, session_id: int):
    cohort, session = _managed_session(code, session_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        operations.close_checkin(current_user, session)
        db.session.commit()
        flash(_("Check-in closed."), "success")
        return redirect(url_for("skills.attendance", code=code, session_id=session.id))
    return render_template("confirm.html", form=form, back=url_for("checkin.projector", code=code,
                                                                    session_id=session.id),
                           question=_("Close check-in? Trainees will no longer be able to check themselves in."))


def _check_in(session=None):
    code = request.form.get("code", "")
    try:
        status, created = operations.check_in(current_user, code, session)
    except DomainError as error:
        db.session.rollback()
        messages = [str(m) for ms in error.fields.values() for m in ms] or [str(error.message)]
        return render_template("checkin/checkin.html", error=" ".join(messages), code=code, form=ConfirmForm()), \
            error.status
    db.session.commit()
    return render_template("checkin/done.html", status=status, created=created)


@bp.route("/checkin", methods=["GET", "POST"])
@require_role("trainee")
def typed():
    """The fallback: type the code shown on the screen."""
    form = ConfirmForm()
    if form.validate_on_submit():
        return _check_in()
    return render_template("checkin/checkin.html", form=form, code="", error=None)


@bp.route("/checkin/<int:session_id>/<code>", methods=["GET", "POST"])
@require_role("trainee")
def scanned(session_id: int, code: str):
    """Opened by the phone's camera from the QR code. GET only asks; one tap posts the check-in."""
    session = db.get_or_404(TrainingSession, session_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        return _check_in(session)
    return render_template("checkin/checkin.html", form=form, code=code, error=None, scanned=True)
