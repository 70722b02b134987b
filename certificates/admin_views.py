"""The admins' certificate pages: every certificate, searchable by serial or holder and filtered by status,
track and year of issue; each certificate's page with what it certifies, its history and its actions."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from accounts.permissions import require_role
from certificates import queries
from certificates.loaders import certificate_search, get_certificate_or_404
from certificates.rules import expiry_phase, is_whole_serial, serial_search
from certificates.sharing import sharing
from common import clock
from common.errors import ValidationFailed
from common.extensions import db
from skills import queries as skill_queries

bp = Blueprint("certificates_admin", __name__, url_prefix="/admin/certificates")
PER_PAGE = 25


@bp.get("")
@require_role("admin")
def index():
    try:
        search = certificate_search(request.args)
    except ValidationFailed as error:  # an unknown status or track, a year that is not one: say which
        return _list_page(None, {name: [str(m) for m in messages] for name, messages in error.fields.items()}), 422
    f = search.filters
    page = db.paginate(queries.certificates(q=f.q, status=f.status, day=clock.today(),
                                            track_id=f.track.id if f.track else None, year=search.year),
                       per_page=PER_PAGE, error_out=False)
    # A fraud report names a serial: when what was typed is one and finds one certificate, open it.
    if page.total == 1 and page.page == 1 and serial_search(f.q) is not None:
        return redirect(url_for(".show", serial=page.items[0].serial))
    return _list_page(page, {})


def _list_page(page, errors: dict[str, list[str]]) -> str:
    return render_template("certificates/admin_list.html", page=page, errors=errors, args=request.args,
                           tracks=db.session.scalars(skill_queries.tracks()).all(),
                           years=db.session.scalars(queries.issue_years()).all(), today=clock.today())


@bp.get("/<serial>")
@require_role("admin")
def show(serial: str):
    typed = serial_search(serial)
    if typed is not None and typed != serial and is_whole_serial(typed):  # "kf-2026-000012" or a serial pasted with spaces
        return redirect(url_for(".show", serial=typed))
    certificate = get_certificate_or_404(serial)
    predecessor = db.session.scalar(queries.predecessor_of(certificate.id))
    return render_template("certificates/admin_show.html", certificate=certificate, predecessor=predecessor,
                           history=queries.certificate_history(certificate), today=clock.today(),
                           expiry_phase=expiry_phase, sharing=sharing)
