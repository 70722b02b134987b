"""Public verification pages, the JWK set, certificate downloads and bulk issuance from a cohort."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.permissions import require_role
from certificates import keys, operations, verification
from certificates.forms import CodeForm, PdfCheckForm, ReinstateForm, RevokeForm
from certificates.loaders import get_certificate_or_404, pdf_response
from certificates.models import VerificationCount
from certificates.queries import certificates_of_trainee
from certificates.rules import expiry_phase
from certificates.serializers import public_json
from common import clock
from common.errors import DomainError, wants_json
from common.extensions import db
from common.security import verification_limit
from jobs import runner
from skills.forms import ConfirmForm
from skills.loaders import get_cohort_or_404

bp = Blueprint("certificates", __name__)

MAX_PDF_CHECK_BYTES = 5 * 1024 * 1024


@bp.context_processor
def _wording():
    return {"expiry_phase": expiry_phase}


def _private(response: Response) -> Response:
    """Verification answers are never cached nor indexed: a status can change at any moment."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _verdict_response(verdict, *, form=None, pdf_form=None):
    if wants_json():
        response = make_response(public_json(verdict), verdict.http_status)
    else:
        response = make_response(render_template(
            "certificates/verify.html", verdict=verdict, form=form or CodeForm(), pdf_form=pdf_form or PdfCheckForm(),
            today=clock.today()), verdict.http_status)
    return _private(response)


@bp.get("/v/<token>")
@verification_limit
def verify_token(token: str):
    try:
        verdict = verification.verify_token(token[:2048])
        response = _verdict_response(verdict)
        if verdict.counts_to_commit:  # most checks only add to the buffered count: nothing to write
            db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return _cannot_check()
    return response


def _cannot_check():
    """Never say valid without having asked the registry."""
    if wants_json():
        return _private(make_response({"status": "unavailable", "detail": _("Cannot check now. Try again shortly.")}, 503))
    return _private(make_response(render_template("certificates/verify.html", verdict=None, unavailable=True,
                                                  form=CodeForm(), pdf_form=PdfCheckForm()), 503))


@bp.route("/verify", methods=["GET", "POST"])
@verification_limit
def verify_form():
    form, pdf_form = CodeForm(prefix="code"), PdfCheckForm(prefix="pdf")
    if request.method == "GET":
        return _private(make_response(render_template("certificates/verify.html", verdict=None, form=form,
                                                      pdf_form=pdf_form)))
    try:
        if pdf_form.pdf.name in request.files:
            return _check_pdf(form, pdf_form)
        if form.validate_on_submit():
            verdict = verification.verify_code(form.serial.data, form.code.data)
            response = _verdict_response(verdict, form=form, pdf_form=pdf_form)
            db.session.commit()
            return response
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return _cannot_check()
    return _private(make_response(render_template("certificates/verify.html", verdict=None, form=form,
                                                  pdf_form=pdf_form), 422))


def _check_pdf(form, pdf_form):
    if not pdf_form.validate_on_submit():
        return _private(make_response(render_template("certificates/verify.html", verdict=None, form=form,
                                                      pdf_form=pdf_form), 422))
    content = pdf_form.pdf.data.read(MAX_PDF_CHECK_BYTES + 1)
    verdict = None if len(content) > MAX_PDF_CHECK_BYTES else verification.verify_original_pdf(content)
    return _private(make_response(render_template(
        "certificates/verify.html", verdict=verdict, pdf_checked=True, pdf_original=verdict is not None,
        form=form, pdf_form=pdf_form, today=clock.today()), 200 if verdict else 422))


@bp.get("/.well-known/jwks.json")
def jwks():
    response = make_response(keys.keystore().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"  # wallets and verifiers fetch it from any origin
    return response


@bp.get("/.well-known/kafaa-signer.json")
def signer():
    """Who signs the PDFs: the certificate's SHA-256 fingerprint, to compare with what a PDF reader
    shows (documented in docs/operations.md). Readable from any origin, like the JWK set."""
    response = make_response(keys.pdf_signer().description())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.context_processor
def _pdf_signer() -> dict:
    return {"pdf_signer_description": lambda: keys.pdf_signer().description()}


@bp.get("/certificates/<serial>.pdf")
@require_role()
def download(serial: str):
    certificate = get_certificate_or_404(serial)
    return pdf_response(certificate)


@bp.get("/me/certificates")
@require_role("trainee")
def mine():
    certificates = db.session.scalars(certificates_of_trainee(current_user.trainee_id or -1)).all()
    counts = dict(db.session.execute(
        sa.select(VerificationCount.certificate_id, sa.func.sum(VerificationCount.count))
        .where(VerificationCount.certificate_id.in_([c.id for c in certificates]))
        .group_by(VerificationCount.certificate_id)).all())
    return render_template("certificates/mine.html", certificates=certificates, counts=counts,
                           today=clock.today())


@bp.route("/certificates/<serial>/revoke", methods=["GET", "POST"])
@require_role("admin")
def revoke(serial: str):
    certificate = get_certificate_or_404(serial)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            operations.revoke_certificate(current_user, certificate, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("Certificate %(serial)s is revoked.", serial=serial), "success")
        return redirect(url_for("skills.trainee", trainee_id=certificate.trainee_id))
    return render_template("certificates/revoke.html", form=form, certificate=certificate)


@bp.route("/certificates/<serial>/reinstate", methods=["GET", "POST"])
@require_role("admin")
def reinstate(serial: str):
    """Lift a revocation made by mistake: confirmed, with a reason, audited."""
    certificate = get_certificate_or_404(serial)
    form = ReinstateForm()
    if form.validate_on_submit():
        try:
            operations.reinstate_certificate(current_user, certificate, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            flash(" ".join([str(error.message)] + [str(m) for ms in error.fields.values() for m in ms]), "error")
        else:
            db.session.commit()
            flash(_("The revocation of certificate %(serial)s is lifted: it is current again.", serial=serial), "success")
        return redirect(url_for("skills.trainee", trainee_id=certificate.trainee_id))
    return render_template("certificates/reinstate.html", form=form, certificate=certificate)


@bp.route("/certificates/<serial>/reissue", methods=["GET", "POST"])
@require_role("admin")
def reissue(serial: str):
    """Reissue from the trainee's current record (a corrected name) or renew; the old one is superseded."""
    certificate = get_certificate_or_404(serial)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            new = operations.reissue_certificate(current_user, certificate)
        except DomainError as error:
            db.session.rollback()
            flash(" ".join([str(error.message)] + [str(m) for ms in error.fields.values() for m in ms]), "error")
        else:
            db.session.commit()
            flash(_("Certificate %(new)s replaces %(old)s.", new=new.serial, old=serial), "success")
        return redirect(url_for("skills.trainee", trainee_id=certificate.trainee_id))
    return render_template("confirm.html", form=form, back=url_for("skills.trainee", trainee_id=certificate.trainee_id),
                           question=_("Reissue certificate %(serial)s from the trainee's current record, with new "
                                      "dates? The old one will verify as replaced.", serial=serial))


@bp.route("/cohorts/<code>/certificates", methods=["GET", "POST"])
@require_role("admin")
def issue_for_cohort(code: str):
    """Confirm, then issue to every eligible trainee in a background job with visible progress."""
    cohort = get_cohort_or_404(code)
    form = ConfirmForm()
    if form.validate_on_submit():
        job = runner.start("certificates.issue_cohort", {"cohort_id": cohort.id, "cohort": cohort.code},
                           current_user)
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("confirm.html", form=form, back=url_for("skills.cohort", code=cohort.code),
                           question=_("Issue certificates to every eligible trainee of %(code)s? Trainees who "
                                      "already hold one keep it; nobody gets two; nobody whose certificate was "
                                      "revoked gets a new one.", code=cohort.code))
