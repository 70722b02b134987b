"""The registry's web pages. Views load and authorise, call operations or queries, and commit once."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from markupsafe import escape

from accounts.models import User
from accounts.permissions import require_role
from accounts.roles import STAFF
from common import clock
from common.errors import DomainError
from common.extensions import db
from common.forms import apply_errors, choices
from common.i18n import public_page
from common.templating import bdi, bdi_message, current_language, localdatetime
from skills import operations, permissions, queries
from skills.forms import (
    CohortForm,
    ConfirmForm,
    EnrolForm,
    ModuleForm,
    RecognitionForm,
    SessionForm,
    TrackForm,
    TraineeForm,
)
from skills.loaders import (
    get_cohort_or_404,
    get_module_or_404,
    get_recognition_or_404,
    get_session_or_404,
    get_track_or_404,
    get_trainee_or_404,
)
from skills.models import Track, TrainingSession
from skills.permissions import can_manage_cohort
from skills.rules import attendance_rate, meets_attendance
from skills.serializers import missing_requirements, prerequisite_message
from skills.vocab import ATTENDANCE_STATUSES

bp = Blueprint("skills", __name__)


def _save(form, write, success: str, redirect_to: str):
    """Run a write for a submitted form: commit and redirect, or put its errors on the form."""
    try:
        write()
    except DomainError as error:
        db.session.rollback()
        apply_errors(form, error)
        return None
    db.session.commit()
    flash(success, "success")
    return redirect(redirect_to)


@public_page
@bp.get("/")
def home():
    """Signed-out visitors get the public landing page (no session, no cookie); signed-in people go on to
    their own starting page."""
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies or not current_user.is_authenticated:
        return render_template("public/landing.html")
    if current_user.role == "trainee":
        return redirect(url_for("skills.my_progress"))
    if current_user.role == "governance":
        return redirect(url_for("governance.dashboard"))
    return redirect(url_for("skills.cohorts"))


# --- modules and tracks --------------------------------------------------------------------------------

@bp.route("/modules", methods=["GET", "POST"])
@require_role("admin")
def modules():
    form = ModuleForm()
    if form.validate_on_submit():
        done = _save(form, lambda: operations.create_module(current_user, form.to_data()),
                     bdi_message(_("Module %(code)s created."), code=form.code.data), url_for("skills.modules"))
        if done:
            return done
    page = db.paginate(queries.modules(request.args.get("q")), per_page=25)
    return render_template("skills/modules.html", form=form, page=page, q=request.args.get("q"))


@bp.route("/modules/<code>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit_module(code: str):
    module = get_module_or_404(code)
    form = ModuleForm(obj=module)
    if form.validate_on_submit():
        done = _save(form, lambda: operations.update_module(current_user, module, form.to_data()),
                     bdi_message(_("Module %(code)s saved."), code=module.code), url_for("skills.modules"))
        if done:
            return done
    return render_template("skills/edit.html", form=form, title=_("Module %(code)s", code=module.code),
                           back=url_for("skills.modules"))


def _track_form(track: Track | None = None) -> TrackForm:
    form = TrackForm(obj=track)
    form.modules.choices = choices((m.code, f"{m.code} — {m.title_fr}") for m in db.session.scalars(queries.modules()))
    form.requires.choices = choices((t.code, f"{t.code} — {t.title_fr}") for t in db.session.scalars(queries.tracks())
                                    if track is None or t.id != track.id)
    if track is not None and not form.is_submitted():
        form.modules.data = [m.code for m in track.modules]
        form.requires.data = [t.code for t in track.requires]
        form.min_attendance.data = track.min_attendance * 100
    return form


@bp.route("/tracks", methods=["GET", "POST"])
@require_role("admin")
def tracks():
    form = _track_form()
    if form.validate_on_submit():
        done = _save(form, lambda: operations.create_track(current_user, form.to_data()),
                     bdi_message(_("Track %(code)s created."), code=form.code.data), url_for("skills.tracks"))
        if done:
            return done
    page = db.paginate(queries.tracks(request.args.get("q")), per_page=25)
    return render_template("skills/tracks.html", form=form, page=page, q=request.args.get("q"))


@bp.route("/tracks/<code>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit_track(code: str):
    track = get_track_or_404(code)
    form = _track_form(track)
    if form.validate_on_submit():
        done = _save(form, lambda: operations.update_track(current_user, track, form.to_data()),
                     bdi_message(_("Track %(code)s saved."), code=track.code), url_for("skills.tracks"))
        if done:
            return done
    return render_template("skills/edit.html", form=form, title=_("Track %(code)s", code=track.code),
                           back=url_for("skills.tracks"))


# --- trainees ------------------------------------------------------------------------------------------

@bp.get("/trainees")
@require_role("admin", "trainer")
def trainees():
    query = queries.trainees(request.args.get("q"), sector=request.args.get("sector") or None,
                             region=request.args.get("region") or None, visible_to=current_user)
    page = db.paginate(query, per_page=25)
    return render_template("skills/trainees.html", page=page, q=request.args.get("q"))


@bp.route("/trainees/new", methods=["GET", "POST"])
@require_role("admin")
def new_trainee():
    form = TraineeForm()
    if form.validate_on_submit():
        done = _save(form, lambda: operations.create_trainee(current_user, form.to_data()),
                     bdi_message(_("Trainee %(name)s created."), name=form.name.data), url_for("skills.trainees"))
        if done:
            return done
    return render_template("skills/edit.html", form=form, title=_("New trainee"), back=url_for("skills.trainees"))


@bp.route("/trainees/<int:trainee_id>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit_trainee(trainee_id: int):
    trainee = get_trainee_or_404(trainee_id)
    form = TraineeForm(obj=trainee)
    if form.validate_on_submit():
        done = _save(form, lambda: operations.update_trainee(current_user, trainee, form.to_data()),
                     bdi_message(_("Trainee %(name)s saved."), name=trainee.name),
                     url_for("skills.trainee", trainee_id=trainee.id))
        if done:
            return done
    return render_template("skills/edit.html", form=form, title=trainee.name,
                           back=url_for("skills.trainee", trainee_id=trainee.id))


# What packages above the registry show on a trainee's page (their certificates, say): template variable ->
# function(trainee) giving its value. The factory fills it, so the registry never imports them.
TRAINEE_PAGE_EXTRAS: dict[str, Callable[[Any], Any]] = {}


def _recognition_form() -> RecognitionForm:
    form = RecognitionForm(prefix="recognition")
    form.module.choices = choices((m.code, f"{m.code} — {m.title(current_language())}")
                                  for m in db.session.scalars(queries.modules()))
    return form


def _render_trainee(trainee, *, recognition_form: RecognitionForm | None = None, status: int = 200):
    extras = {name: value_of(trainee) for name, value_of in TRAINEE_PAGE_EXTRAS.items()}
    scope = permissions.progress_scope(current_user)  # a trainer: the cohorts they teach only
    admin = current_user.role == "admin"
    return render_template("skills/progress.html", trainee=trainee,
                           progress=queries.trainee_progress(trainee.id, scope),
                           # The pathway spans every cohort and certificate: not for a trainer's narrower view.
                           pathway=queries.trainee_pathway(trainee.id) if scope is None else None,
                           prerequisite_message=prerequisite_message,
                           cohorts=db.session.scalars(queries.cohorts_of_trainee(trainee.id, scope)).all(),
                           recognitions=db.paginate(queries.recognitions_of(trainee.id), per_page=25,
                                                    page=request.args.get("page", 1, type=int)),
                           recognition_form=(recognition_form or _recognition_form()) if admin else None,
                           missing_requirements=missing_requirements, today=clock.today(), **extras), status


@bp.get("/trainees/<int:trainee_id>")
@require_role("admin", "trainer", "trainee")
def trainee(trainee_id: int):
    return _render_trainee(get_trainee_or_404(trainee_id))


@bp.post("/trainees/<int:trainee_id>/recognitions")
@require_role("admin")
def recognise(trainee_id: int):
    trainee = get_trainee_or_404(trainee_id)
    form = _recognition_form()
    if form.validate_on_submit():
        done = _save(form, lambda: operations.recognise_module(current_user, trainee, form.to_data()),
                     _("Module %(code)s recognised.", code=form.module.data),
                     url_for("skills.trainee", trainee_id=trainee.id))
        if done:
            return done
    return _render_trainee(trainee, recognition_form=form, status=422)


@bp.route("/trainees/<int:trainee_id>/recognitions/<int:recognition_id>/withdraw", methods=["GET", "POST"])
@require_role("admin")
def withdraw_recognition(trainee_id: int, recognition_id: int):
    trainee = get_trainee_or_404(trainee_id)
    recognition = get_recognition_or_404(trainee, recognition_id)
    back = url_for("skills.trainee", trainee_id=trainee.id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            operations.withdraw_recognition(current_user, recognition)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(bdi_message(_("The recognition of module %(code)s is withdrawn."), code=recognition.module.code),
                  "success")
        return redirect(back)
    return render_template("confirm.html", form=form, back=back, question=escape(_(
        "Withdraw the recognition of module %(code)s for %(name)s? It stops counting toward their tracks at once; "
        "certificates already issued stay as they are.")) % {"code": recognition.module.code, "name": bdi(trainee.name)})


@bp.get("/me/progress")
@require_role("trainee")
def my_progress():
    if current_user.trainee_id is None:
        return render_template("errors/error.html", status=404,
                               message=_("Your account is not linked to a trainee record yet.")), 404
    return trainee(current_user.trainee_id)


# --- cohorts -------------------------------------------------------------------------------------------

def _cohort_form(cohort=None) -> CohortForm:
    form = CohortForm(obj=cohort)
    form.track.choices = choices((t.code, f"{t.code} — {t.title_fr}") for t in db.session.scalars(queries.tracks()))
    form.trainers.choices = choices((u.email, u.email) for u in db.session.scalars(
        sa.select(User).where(User.role == "trainer").order_by(User.email)))
    if cohort is not None and not form.is_submitted():
        form.track.data = cohort.track.code
        form.trainers.data = [u.email for u in cohort.trainers]
    return form


@bp.get("/cohorts")
@require_role(*STAFF)
def cohorts():
    query = queries.cohorts(request.args.get("q"), taught_by=current_user if current_user.role == "trainer" else None,
                            sector=request.args.get("sector") or None, region=request.args.get("region") or None)
    page = db.paginate(query, per_page=25)
    today = None
    if current_user.role in ("admin", "trainer"):  # a shortcut to the attendance screens of the day
        today = db.session.scalars(queries.sessions_today(
            taught_by=current_user if current_user.role == "trainer" else None).limit(20)).all()
    return render_template("skills/cohorts.html", page=page, q=request.args.get("q"), today_sessions=today)


@bp.route("/cohorts/new", methods=["GET", "POST"])
@require_role("admin")
def new_cohort():
    form = _cohort_form()
    if form.validate_on_submit():
        done = _save(form, lambda: operations.create_cohort(current_user, form.to_data()),
                     bdi_message(_("Cohort %(code)s created."), code=form.code.data),
                     url_for("skills.cohort", code=form.code.data))
        if done:
            return done
    return render_template("skills/edit.html", form=form, title=_("New cohort"), back=url_for("skills.cohorts"))


@bp.route("/cohorts/<code>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit_cohort(code: str):
    cohort = get_cohort_or_404(code)
    form = _cohort_form(cohort)
    if form.validate_on_submit():
        done = _save(form, lambda: operations.update_cohort(current_user, cohort, form.to_data()),
                     bdi_message(_("Cohort %(code)s saved."), code=form.code.data),
                     url_for("skills.cohort", code=form.code.data))
        if done:
            return done
    return render_template("skills/edit.html", form=form, title=_("Cohort %(code)s", code=cohort.code),
                           back=url_for("skills.cohort", code=cohort.code))


def _session_form(cohort) -> SessionForm:
    form = SessionForm(prefix="session")
    form.module.choices = choices((m.code, f"{m.code} — {m.title(current_language())}") for m in cohort.track.modules)
    return form


def _roster_rates(cohort, trainee_ids) -> dict[int, tuple[Decimal | None, bool]]:
    """Each trainee's attendance rate in this cohort and whether it meets the track's minimum."""
    counts = {row.trainee_id: (row.attended, row.counted)
              for row in db.session.execute(queries.cohort_attendance_counts(cohort.id, trainee_ids))}
    minimum = cohort.track.min_attendance
    return {tid: (attendance_rate(*counts.get(tid, (0, 0))), meets_attendance(*counts.get(tid, (0, 0)), minimum))
            for tid in trainee_ids}


def _render_cohort(cohort, *, session_form=None, enrol_form=None, status: int = 200):
    manage = can_manage_cohort(current_user, cohort)
    show_people = current_user.role != "governance"  # the governance cell sees counts, never people
    roster = db.paginate(queries.cohort_roster(cohort.id, request.args.get("q")), per_page=25) if show_people else None
    rates = _roster_rates(cohort, [t.id for t in roster.items]) if roster else {}
    # Who on this page lacks a prerequisite of the track: one query for the page, by eligibility's own rule.
    gaps = queries.prerequisite_gaps(cohort.track, [t.id for t in roster.items]) if roster else {}
    sessions = db.paginate(queries.cohort_sessions_for_trainers(cohort.id), per_page=20,
                           page=request.args.get("spage", 1, type=int))
    today = db.session.scalars(queries.sessions_today().where(TrainingSession.cohort_id == cohort.id)).all()
    return render_template("skills/cohort.html", cohort=cohort, manage=manage, roster=roster, rates=rates,
                           show_people=show_people, gaps=gaps, prerequisite_message=prerequisite_message,
                           sessions=sessions, today_sessions=today, day=clock.today(),
                           session_form=session_form or _session_form(cohort),
                           enrol_form=enrol_form or EnrolForm(prefix="enrol"), q=request.args.get("q")), status


@bp.get("/cohorts/<code>")
@require_role(*STAFF)
def cohort(code: str):
    return _render_cohort(get_cohort_or_404(code))


@bp.post("/cohorts/<code>/sessions")
@require_role("admin", "trainer")
def plan_session(code: str):
    cohort = get_cohort_or_404(code, manage=True)
    form = _session_form(cohort)
    if form.validate_on_submit():
        data = {"module": form.module.data, "starts_at": form.starts_at.data, "hours": form.hours.data}
        done = _save(form, lambda: operations.plan_session(current_user, cohort, data),
                     _("Session planned."), url_for("skills.cohort", code=cohort.code))
        if done:
            return done
    return _render_cohort(cohort, session_form=form, status=422)


@bp.post("/cohorts/<code>/enrollments")
@require_role("admin")
def enrol(code: str):
    cohort = get_cohort_or_404(code)
    form = EnrolForm(prefix="enrol")
    if form.validate_on_submit():
        gaps: list = []

        def write() -> None:
            _enrol_one(cohort, form)
            gaps.extend(queries.prerequisite_gaps(cohort.track, [form.trainee_id.data])[form.trainee_id.data])
        done = _save(form, write, _("Trainee enrolled."), url_for("skills.cohort", code=cohort.code))
        if done:
            # Allowed (they may earn it during the cohort), but said plainly.
            for gap in gaps:
                # The number and code isolated like any flash (bdi_message); the reason is a sentence of its own.
                flash(escape(_("Warning: trainee %(id)s does not meet a prerequisite of this track yet. %(reason)s They "
                               "may earn it during the cohort, but no certificate of %(code)s can be issued to them "
                               "before.")) % {"id": bdi(form.trainee_id.data), "reason": str(prerequisite_message(gap)),
                                              "code": bdi(cohort.track.code)}, "warning")
            return done
    return _render_cohort(cohort, enrol_form=form, status=422)


def _enrol_one(cohort, form: EnrolForm) -> None:
    try:
        operations.enrol_trainees(current_user, cohort, [form.trainee_id.data])
    except DomainError as error:  # the operation speaks of a list; the form has one field
        error.fields = {"trainee_id": [m for ms in error.fields.values() for m in ms]}
        raise


@bp.route("/cohorts/<code>/enrollments/<int:trainee_id>/remove", methods=["GET", "POST"])
@require_role("admin")
def unenrol(code: str, trainee_id: int):
    cohort, trainee = get_cohort_or_404(code), get_trainee_or_404(trainee_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        operations.unenrol_trainee(current_user, cohort, trainee)
        db.session.commit()
        flash(bdi_message(_("%(name)s is no longer enrolled in %(code)s."), name=trainee.name, code=cohort.code), "success")
        return redirect(url_for("skills.cohort", code=cohort.code))
    return render_template("confirm.html", form=form, back=url_for("skills.cohort", code=cohort.code),
                           question=_("Remove %(name)s from cohort %(code)s? Attendance and results already "
                                      "recorded are kept.", name=trainee.name, code=cohort.code))


@bp.route("/cohorts/<code>/sessions/<int:session_id>", methods=["GET", "POST"])
@require_role("admin", "trainer")
def attendance(code: str, session_id: int):
    """The trainer's attendance screen: every enrolled trainee on one page, one save.

    Nobody is preset: a row the trainer has not chosen stays empty and is not saved, so a forgotten row
    is never recorded as present. "Mark everyone present" fills the empty rows on screen (saving nothing);
    the trainer then corrects the exceptions and saves."""
    cohort = get_cohort_or_404(code, manage=True)
    session = get_session_or_404(session_id, cohort=cohort)
    form = ConfirmForm()
    status = 200
    roster = db.session.scalars(queries.cohort_roster(cohort.id)).all()
    current = {a.trainee_id: a for a in db.session.scalars(queries.session_attendance(session.id))}
    chosen = {t.id: current[t.id].status for t in roster if t.id in current}
    if request.method == "POST":
        submitted = {int(key[7:]): value for key, value in request.form.items()
                     if key.startswith("status-") and key[7:].isdigit() and value}
        chosen.update(submitted)
        if form.validate_on_submit():
            if request.form.get("fill") == "present":
                filled = [t.id for t in roster if t.id not in chosen]
                chosen.update({tid: "present" for tid in filled})
                flash(ngettext("%(num)d trainee marked present on screen: correct the exceptions, then save.",
                               "%(num)d trainees marked present on screen: correct the exceptions, then save.",
                               len(filled)), "info")
            elif not submitted:
                form.form_errors.append(_("Choose a status for at least one trainee: nothing was saved."))
                status = 422
            else:
                records = [{"trainee_id": tid, "status": value} for tid, value in submitted.items()]
                left = sum(1 for t in roster if t.id not in chosen)
                message = _("Attendance saved.")
                if left:
                    message += " " + ngettext("%(num)d trainee has no status yet and was not saved.",
                                              "%(num)d trainees have no status yet and were not saved.", left)
                done = _save(form, lambda: operations.record_attendance(current_user, session, records),
                             message, url_for("skills.attendance", code=code, session_id=session.id))
                if done:
                    return done
                status = 422
        else:
            status = 422
    rates = _roster_rates(cohort, [t.id for t in roster])
    return render_template("skills/attendance.html", cohort=cohort, session=session, roster=roster,
                           current=current, chosen=chosen, rates=rates, form=form,
                           missing=sum(1 for t in roster if t.id not in chosen),
                           statuses=ATTENDANCE_STATUSES), status


@bp.route("/cohorts/<code>/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@require_role("admin", "trainer")
def delete_session(code: str, session_id: int):
    cohort = get_cohort_or_404(code, manage=True)
    session = get_session_or_404(session_id, manage=True, cohort=cohort)
    form = ConfirmForm()
    if form.validate_on_submit():
        operations.delete_session(current_user, session)
        db.session.commit()
        flash(_("Session deleted."), "success")
        return redirect(url_for("skills.cohort", code=cohort.code))
    return render_template("confirm.html", form=form, back=url_for("skills.cohort", code=cohort.code),
                           # The date in words, in Morocco's time, isolated so Arabic text keeps its order.
                           question=escape(_("Delete the session of %(when)s and the attendance taken at it?"))
                           % {"when": bdi(localdatetime(session.starts_at, "short"))})


@bp.route("/cohorts/<code>/results", methods=["GET", "POST"])
@require_role("admin", "trainer")
def results(code: str):
    """Module results for the whole cohort: one row per trainee, one column per module, one save."""
    cohort = get_cohort_or_404(code, manage=True)
    modules = cohort.track.modules
    form = ConfirmForm()
    status = 200
    if request.method == "POST":
        records = _results_from_form(modules)
        if form.validate_on_submit():
            done = _save(form, lambda: operations.record_results(current_user, cohort, records),
                         _("Results saved."), url_for("skills.results", code=code))
            if done:
                return done
        status = 422
    roster = db.session.scalars(queries.cohort_roster(cohort.id)).all()
    current = {(r.trainee_id, r.module_id): r for r in db.session.scalars(queries.cohort_results(cohort.id))}
    return render_template("skills/results.html", cohort=cohort, modules=modules, roster=roster, current=current,
                           form=form), status


def _results_from_form(modules) -> list[dict]:
    """Fields are named result-<trainee>-<module code> (passed/failed/empty) and score-<trainee>-<code>.
    An empty choice means: nothing to record for that cell."""
    records = []
    for key, value in request.form.items():
        if not key.startswith("result-") or value == "":
            continue
        _, trainee_id, module_code = key.split("-", 2)
        if not trainee_id.isdigit():
            continue
        records.append({"trainee_id": int(trainee_id), "module": module_code, "passed": value == "passed",
                        "score": request.form.get(f"score-{trainee_id}-{module_code}") or None})
    return records
