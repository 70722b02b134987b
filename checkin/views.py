"""The trainer's projector screen with its live roster, and the trainee's check-in pages."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from accounts.permissions import require_role
from checkin import operations, tickets
from checkin.codes import shown_code
from common.errors import DomainError
from common.extensions import db
from common.templating import display_name
from skills import queries
from skills.forms import ConfirmForm
from skills.loaders import get_cohort_or_404, get_session_or_404
from skills.models import TrainingSession
from skills.rules import ATTENDED_STATUSES
from skills.vocab import ATTENDANCE_STATUSES

bp = Blueprint("checkin", __name__)


def _managed_session(code: str, session_id: int):
    cohort = get_cohort_or_404(code, manage=True)
    return cohort, get_session_or_404(session_id, cohort=cohort)


def roster_state(cohort, session) -> dict:
    """Who is in the room and who is not: for the trainer's live roster. "present" counts the people in the
    room (checked in, or marked present or late by hand); people marked absent or excused are not."""
    records = {a.trainee_id: a for a in db.session.scalars(queries.session_attendance(session.id))}
    people = db.session.scalars(queries.cohort_roster(cohort.id)).all()

    def status(t):
        return records[t.id].status if t.id in records else None
    return {"present": sum(1 for t in people if status(t) in ATTENDED_STATUSES), "enrolled": len(people),
            "roster": [{"id": t.id, "name": t.name, "name_ar": t.name_ar, "status": status(t),
                        "in": status(t) in ATTENDED_STATUSES,
                        "status_label": str(ATTENDANCE_STATUSES[status(t)]) if status(t) else None,
                        "source": records[t.id].source if t.id in records else None} for t in people]}


def room_state(cohort, session) -> dict:
    """What the projector shows the room: how many are in, and only their names. Nobody is projected as
    absent, excused or missing."""
    state = roster_state(cohort, session)
    return {"present": state["present"], "enrolled": state["enrolled"],
            "names": [display_name(p) for p in state["roster"] if p["in"]]}


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
    """What the trainer's screen polls to update itself without a reload."""
    cohort, session = _managed_session(code, session_id)
    body = roster_state(cohort, session)
    body["open"] = session.checkin_opened_at is not None
    if body["open"]:
        body.update(shown_code(session, with_qr=True))
    return body, 200, {"Cache-Control": "no-store"}


@bp.get("/cohorts/<code>/sessions/<int:session_id>/checkin/room")
@require_role("admin", "trainer")
def room(code: str, session_id: int):
    """Projector mode: what the room sees, full screen. No menu, no email, no roster of who is missing."""
    cohort, session = _managed_session(code, session_id)
    if session.checkin_opened_at is None:
        return redirect(url_for("checkin.projector", code=code, session_id=session.id))
    return render_template("checkin/room.html", cohort=cohort, session=session,
                           current=shown_code(session, with_qr=True), **room_state(cohort, session))


@bp.get("/cohorts/<code>/sessions/<int:session_id>/checkin/room/state")
@require_role("admin", "trainer")
def room_state_json(code: str, session_id: int):
    """What the projector polls: the code, the count and the names of those in the room, nothing else."""
    cohort, session = _managed_session(code, session_id)
    body = room_state(cohort, session)
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


def _check_in(session=None, code: str = "", ticket: str | None = None):
    """Record the check-in: with a ticket, as of the moment of the scan; otherwise with the typed code."""
    scan = tickets.redeem(ticket, session.id) if session is not None else None
    try:
        if scan is not None:
            done = operations.check_in(current_user, scan[0], session, scanned_at=scan[1])
        else:
            done = operations.check_in(current_user, code, session)
    except DomainError as error:
        db.session.rollback()
        messages = [str(m) for ms in error.fields.values() for m in ms] or [str(error.message)]
        return render_template("checkin/checkin.html", error=" ".join(messages), code=code, form=ConfirmForm(),
                               ticket=None), error.status
    db.session.commit()
    return render_template("checkin/done.html", status=done.status, created=done.created, session=done.session)


@bp.route("/checkin", methods=["GET", "POST"])
@require_role("trainee")
def typed():
    """The fallback: type the code shown on the screen."""
    form = ConfirmForm()
    if form.validate_on_submit():
        return _check_in(code=request.form.get("code", ""))
    return render_template("checkin/checkin.html", form=form, code="", error=None, ticket=None)


@bp.route("/checkin/<int:session_id>/<code>", methods=["GET", "POST"])
def scanned(session_id: int, code: str):
    """Opened by the phone's camera from the QR code. GET only asks; one tap posts the check-in.

    The moment of the scan is what counts: a code found current here is remembered in a signed ticket
    (checkin.tickets), which a signed-out trainee carries through sign-in and the privacy notice."""
    session = db.session.get(TrainingSession, session_id)
    ticket = request.values.get("ticket")
    if session is not None and tickets.redeem(ticket, session.id) is None:
        ticket = tickets.issue(session.id, code) if operations.code_is_current(session, code) else None
    if not current_user.is_authenticated:
        flash(ngettext("Sign in to finish checking in: your scan stays valid for %(num)d minute.",
                       "Sign in to finish checking in: your scan stays valid for %(num)d minutes.",
                       tickets.MAX_AGE_SECONDS // 60), "info")
        return redirect(url_for("accounts.login", next=url_for("checkin.scanned", session_id=session_id, code=code,
                                                               ticket=ticket)))
    return _scanned(session, code, ticket)


@require_role("trainee")
def _scanned(session, code: str, ticket: str | None):
    if session is None:
        return render_template("errors/error.html", status=404,
                               message=_("This check-in link is unknown. Type the code shown on the screen.")), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        return _check_in(session, request.form.get("code", code), request.form.get("ticket"))
    if ticket is None:  # scanned too late, or a photo of an old code: ask for the code on screen now
        return render_template("checkin/checkin.html", form=form, code="", ticket=None,
                               error=_("This code has expired. Type the code shown on the screen now.")), 200
    return render_template("checkin/checkin.html", form=form, code=code, error=None, scanned=True, ticket=ticket,
                           session=session)
