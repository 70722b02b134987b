"""Public verification pages, the JWK set, certificate downloads and bulk issuance from a cohort."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from accounts.permissions import require_role
from certificates import keys, operations, verification
from certificates.forms import ReinstateForm, RevokeForm
from certificates.loaders import get_certificate_or_404, pdf_response
from certificates.models import VerificationCount
from certificates.notifications import NEUTRAL_REVOCATION_MESSAGE, revocation_message
from certificates.queries import certificates_of_trainee
from certificates.rules import expiry_phase
from certificates.serializers import public_json
from certificates.sharing import sharing
from certificates.vocab import STATUS_LABELS
from common import clock
from common.errors import DomainError, wants_json
from common.extensions import csrf, db
from common.i18n import public_page
from common.public import never_cached, render_public
from common.redirects import safe_next
from common.security import verification_limit
from common.templating import bdi_message
from jobs import runner
from skills.forms import ConfirmForm
from skills.loaders import get_cohort_or_404

bp = Blueprint("certificates", __name__)
# Every page naming a certificate's status (the holder's, the admin's, the trainee page, a transcript) reads
# the one vocabulary.
bp.add_app_template_global(STATUS_LABELS, "certificate_statuses")
# Globals rather than context processors: nothing to compute for a page that does not use them.
bp.add_app_template_global(expiry_phase, "expiry_phase")
bp.add_app_template_global(sharing, "sharing")
bp.add_app_template_global(lambda: keys.pdf_signer().description(), "pdf_signer_description")

MAX_PDF_CHECK_BYTES = 5 * 1024 * 1024
MAX_TYPED_CHARS = 20  # a serial (KF-2026-000123) or a code (XXXX-XXXX) with room for spaces


def _verify_page(status: int = 200, **context) -> Response:
    return render_public("certificates/verify.html", status, **context)


def _verdict_response(verdict, **context):
    if wants_json():
        return never_cached(make_response(public_json(verdict), verdict.http_status))
    return _verify_page(verdict.http_status, verdict=verdict, **context)


@public_page
@bp.get("/v/<token>")
@verification_limit
def verify_token(token: str):
    try:
        verdict = verification.verify_token(token[:2048], counted=request.method != "HEAD")
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
        return never_cached(make_response({"status": "unavailable", "detail": _("Cannot check now. Try again shortly.")}, 503))
    return _verify_page(503, verdict=None, unavailable=True)


def _typed(name: str) -> tuple[str, list[str]]:
    value = request.args.get(name, "").strip()
    if not value:
        return value, [_("This field is required.")]
    if len(value) > MAX_TYPED_CHARS:
        return value, [_("Field cannot be longer than %(max)d characters.", max=MAX_TYPED_CHARS)]
    return value, []


@public_page
@bp.get("/verify")
@verification_limit
def verify_form():
    """The check by serial number and code: a read-only GET form (nothing to protect, no session)."""
    if "serial" not in request.args and "code" not in request.args:
        return _verify_page(verdict=None)
    (serial, serial_errors), (code, code_errors) = _typed("serial"), _typed("code")
    typed = {"serial": serial, "code": code}
    if serial_errors or code_errors:
        return _verify_page(422, verdict=None, typed=typed,
                            errors={"serial": serial_errors, "code": code_errors})
    try:
        verdict = verification.verify_code(serial, code, counted=request.method != "HEAD")
        response = _verdict_response(verdict, typed=typed)
        if verdict.counts_to_commit:
            db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return _cannot_check()
    return response


@public_page
@bp.post("/verify")
@verification_limit
def verify_pdf():
    """Is this file an original? Exempt from CSRF on purpose (see below): it changes nothing, reads no
    session and answers only about the file sent, so a forged cross-site post gains nothing. Its limits
    stay: MAX_PDF_CHECK_BYTES read at most, and the verification rate limit per address."""
    upload = request.files.get("pdf")
    if upload is None or not upload.filename:
        return _verify_page(422, verdict=None,
                            errors={"pdf": [_("This field is required.")]})
    try:
        content = upload.read(MAX_PDF_CHECK_BYTES + 1)
        verdict = None if len(content) > MAX_PDF_CHECK_BYTES else verification.verify_original_pdf(content)
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return _cannot_check()
    return _verify_page(200 if verdict else 422, verdict=verdict, pdf_checked=True,
                        pdf_original=verdict is not None)


# No session reaches this view (public_page), so there is no identity for a cross-site request to borrow,
# and it writes nothing: a CSRF token would only force a session cookie on every visitor.
csrf.exempt(verify_pdf)


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
                           today=clock.today(), revocation_message=revocation_message,
                           contact=current_app.config["CONTACT_EMAIL"])


def _back(certificate) -> str:
    """Where revoke, reinstate and reissue return: the page they were started from when it says so (a local
    `next`, kept on the form's own URL: the certificate's admin page), else the trainee's page."""
    return safe_next(request.args.get("next"), url_for("skills.trainee", trainee_id=certificate.trainee_id))


@bp.route("/certificates/<serial>/revoke", methods=["GET", "POST"])
@require_role("admin")
def revoke(serial: str):
    certificate = get_certificate_or_404(serial)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            operations.revoke_certificate(current_user, certificate, form.reason.data, form.message.data)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(bdi_message(_("Certificate %(serial)s is revoked."), serial=serial), "success")
        return redirect(_back(certificate))
    return render_template("certificates/revoke.html", form=form, certificate=certificate, back=_back(certificate),
                           neutral=NEUTRAL_REVOCATION_MESSAGE)


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
            flash(bdi_message(_("The revocation of certificate %(serial)s is lifted: it is current again."), serial=serial), "success")
        return redirect(_back(certificate))
    return render_template("certificates/reinstate.html", form=form, certificate=certificate, back=_back(certificate))


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
            flash(bdi_message(_("Certificate %(new)s replaces %(old)s."), new=new.serial, old=serial), "success")
        return redirect(_back(certificate))
    return render_template("confirm.html", form=form, back=_back(certificate),
                           question=_("Reissue certificate %(serial)s from the trainee's current record, with new "
                                      "dates? The old one will verify as replaced.", serial=serial))


@bp.route("/cohorts/<code>/certificates", methods=["GET", "POST"])
@require_role("admin")
def issue_for_cohort(code: str):
    """Confirm, then issue to every eligible trainee in a background job with visible progress."""
    cohort = get_cohort_or_404(code)
    form = ConfirmForm()
    if form.validate_on_submit():
        # The job words why someone is not eligible in the language of whoever started it.
        job = runner.start("certificates.issue_cohort", {"cohort_id": cohort.id, "cohort": cohort.code,
                                                         "locale": str(get_locale())}, current_user)
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("confirm.html", form=form, back=url_for("skills.cohort", code=cohort.code),
                           question=_("Issue certificates to every eligible trainee of %(code)s? Trainees who "
                                      "already hold one keep it; nobody gets two; nobody whose certificate was "
                                      "revoked gets a new one.", code=cohort.code))
