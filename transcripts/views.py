"""Transcript pages: issuing and downloading the signed PDF, and the public page its QR code opens."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, flash, make_response, redirect, url_for
from flask_login import current_user

from accounts.permissions import require_role
from common.errors import DomainError, wants_json
from common.extensions import db
from common.i18n import public_page
from common.public import never_cached, render_public
from common.security import verification_limit
from skills.loaders import get_trainee_or_404
from transcripts import operations, verification
from transcripts.loaders import get_transcript_or_404, own_trainee, pdf_response

bp = Blueprint("transcripts", __name__)


def page_action(trainee) -> dict | None:
    """The "download the transcript" button on a trainee's page (skills.views.TRAINEE_PAGE_EXTRAS): the trainee
    on their own page, an admin on anyone's; nobody else."""
    if current_user.role == "admin":
        return {"url": url_for("transcripts.issue_for_trainee", trainee_id=trainee.id), "own": False}
    if current_user.role == "trainee" and current_user.trainee_id == trainee.id:
        return {"url": url_for("transcripts.issue_mine"), "own": True}
    return None


def _issue_and_download(trainee):
    """Issue (or find today's identical) transcript, then send its PDF by a redirect, so a reload asks nothing."""
    try:
        transcript, _created = operations.issue_transcript(current_user, trainee)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("skills.trainee", trainee_id=trainee.id))
    db.session.commit()
    return redirect(url_for("transcripts.download", serial=transcript.serial))


@bp.post("/me/transcript")
@require_role("trainee")
def issue_mine():
    return _issue_and_download(own_trainee())


@bp.post("/trainees/<int:trainee_id>/transcript")
@require_role("admin")
def issue_for_trainee(trainee_id: int):
    return _issue_and_download(get_trainee_or_404(trainee_id))


@bp.get("/transcripts/<serial>.pdf")
@require_role()
def download(serial: str):
    return pdf_response(get_transcript_or_404(serial))


@public_page
@bp.get("/t/<serial>/<code>")
@verification_limit
def public(serial: str, code: str):
    """The transcript as issued (its frozen content, never today's registry). Like /v/…: no session, no cookie,
    never cached nor indexed; the language from ?lang= or the browser."""
    verdict = verification.verify(serial[:32], code)
    if wants_json():
        body = {"status": verdict.status}
        if verdict.status == "issued":
            body.update(serial=verdict.transcript.serial, issued_on=verdict.transcript.issued_on.isoformat(),
                        **verdict.transcript.content)
        return never_cached(make_response(body, verdict.http_status))
    return render_public("transcripts/public.html", verdict.http_status, verdict=verdict, as_date=date.fromisoformat,
                         as_decimal=Decimal)
