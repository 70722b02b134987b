"""The governance dashboard, targets, closing quarters and the quarterly report."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.permissions import require_role
from common import clock
from common.errors import DomainError, NotFound
from common.extensions import db
from common.forms import apply_errors
from common.pagination import paginate_rows
from common.templating import bdi_message, current_language
from governance import operations, queries, reporting
from governance.disclosure import bar_value, scale
from governance.forms import TargetsForm
from governance.loaders import filters_from_request, parse_quarter, quarter_from_request
from governance.rules import Quarter, quarters_between
from governance.serializers import change, cohort_row_json, pathway_json, previous_json, progress_json
from jobs import runner
from skills.forms import ConfirmForm
from skills.models import Track

bp = Blueprint("governance", __name__)


@bp.get("/dashboard")
@require_role("admin", "governance")
def dashboard():
    quarter, filters = quarter_from_request(), filters_from_request()
    figures, closed = queries.quarter_figures(quarter, filters, with_previous=True)
    exact = current_user.role == "admin"  # governance sees counts under governance.disclosure only
    written = None if exact else queries.filtered_written(quarter, filters, with_previous=True)
    shown = progress_json(figures, closed=closed, exact=exact, written=written)
    previous = queries.previous_breakdowns(quarter, filters, live=figures.previous)
    before = previous_json(previous, exact=exact, written=written) if previous is not None else None
    cohorts = paginate_rows(queries.cohort_rates(quarter, filters), request.args.get("page", 1, type=int) or 1, 20)
    pathway = None  # the funnel is the whole programme's: a filtered view leaves it out
    if not filters.any:
        funnel, funnel_closed = queries.quarter_pathway(quarter)
        pathway = pathway_json(funnel, quarter=quarter, as_of=figures.as_of, closed=funnel_closed, exact=exact,
                               tracks=None if exact else queries.pathway_track_totals(quarter, funnel))
    return render_template(
        "governance/dashboard.html", quarter=quarter, shown=shown, before=before, as_of=figures.as_of,
        bar_value=bar_value, scale=scale, exact=exact, change=lambda now, before: change(now, before, exact=exact),
        closed=closed, filters=filters, cohorts=cohorts, pathway=pathway,
        cohort_rows=[cohort_row_json(r, exact=exact) for r in cohorts.items],
        quarters=list(reversed(quarters_between(queries.first_quarter(), Quarter.of(clock.today())))),
        tracks=sorted(db.session.scalars(sa.select(Track)), key=lambda t: t.title(current_language()).casefold()),
        can_close=quarter.last_day < clock.today() and queries.closed_figures(quarter) is None)


@bp.get("/dashboard/people")
@require_role("admin")
def people():
    """The people behind a figure: for admins only; the governance role sees counts."""
    quarter, filters = quarter_from_request(), filters_from_request()
    attributes = {k: request.args[k] for k in ("category", "gender", "language") if request.args.get(k)}
    page = db.paginate(queries.people_behind(queries.as_of_day(quarter), filters, **attributes), per_page=25)
    return render_template("governance/people.html", page=page, quarter=quarter, attributes=attributes)


@bp.route("/dashboard/targets", methods=["GET", "POST"])
@require_role("admin")
def targets():
    form = TargetsForm(data=queries.targets())
    if form.validate_on_submit():
        try:
            operations.set_targets(current_user, {k: form[k].data for k in ("total", "engineer", "researcher",
                                                                             "official")})
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Targets saved."), "success")
            return redirect(url_for("governance.dashboard"))
    return render_template("skills/edit.html", form=form, title=_("Targets"), back=url_for("governance.dashboard"))


@bp.route("/dashboard/quarters/<quarter>/close", methods=["GET", "POST"])
@require_role("admin")
def close_quarter(quarter: str):
    parsed = parse_quarter(quarter)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            operations.close_quarter(current_user, parsed)
        except DomainError as error:
            db.session.rollback()
            flash(" ".join([str(error.message)] + [str(m) for ms in error.fields.values() for m in ms]), "error")
        else:
            db.session.commit()
            flash(bdi_message(_("Quarter %(quarter)s is closed: its figures are frozen."), quarter=quarter), "success")
        return redirect(url_for("governance.dashboard", quarter=quarter))
    return render_template("confirm.html", form=form, back=url_for("governance.dashboard", quarter=quarter),
                           question=_("Close quarter %(quarter)s? Its figures will be frozen as they are now; later "
                                      "corrections will be listed in the next report.", quarter=quarter))


@bp.post("/dashboard/report")
@require_role("admin", "governance")
def report():
    form = ConfirmForm()
    if not form.validate_on_submit():
        raise NotFound()
    quarter = parse_quarter(request.form.get("quarter"))
    job = runner.start("governance.quarterly_report", {"quarter": str(quarter)}, current_user)
    return redirect(url_for("jobs.show", job_id=job.id))


REPORT_MEDIA = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@require_role("admin", "governance")
def report_file(quarter: str, fmt: str):
    """One file of the quarter's report, built now and sent as a download: the same figures as the job's ZIP,
    under the disclosure rule for every reader (a governance publication)."""
    name, data = reporting.report_file(parse_quarter(quarter), fmt)
    response = Response(data, mimetype=REPORT_MEDIA[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


for _fmt in REPORT_MEDIA:
    bp.add_url_rule(f"/dashboard/report/<quarter>.{_fmt}", view_func=report_file, methods=["GET"],
                    defaults={"fmt": _fmt})
