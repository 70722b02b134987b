"""Mail to a certificate's holder (the trainee record's address) when it is issued, reissued or revoked.

Written to the outbox in the transaction of what it tells (accounts.mail): a rolled-back issue or revocation
sends nothing, and since each is decided once (the row locks in operations), each is told once. The mail is
in the language of the holder's account when they have one and chose it; else in French and Arabic, one
after the other. A purged holder has no address left and gets nothing."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, gettext as _, lazy_gettext as _l

from accounts.mail import send_mail
from accounts.models import User
from certificates.models import Certificate
from certificates.signing import verify_url
from common.extensions import db
from common.i18n import LANGUAGES

# What the holder reads when the admin wrote no message of their own: says what happened, blames nobody.
NEUTRAL_REVOCATION_MESSAGE = _l("The programme has withdrawn this certificate. For any question, write to us.")
BOTH = ("fr", "ar")  # no language known: French and Arabic in one mail
SEPARATOR = "\n\n— — —\n\n"


def revocation_message(certificate: Certificate) -> str:
    """What the holder is told about a revocation, in the current language when it is the neutral wording."""
    return certificate.revocation_message or str(NEUTRAL_REVOCATION_MESSAGE)


def _languages(certificate: Certificate) -> tuple[str, ...]:
    # Without autoflush: what the operation left pending (its audit entry) goes with the outbox message's
    # flush, one flush instead of two; nothing pending changes an account's language.
    with db.session.no_autoflush:
        locale = db.session.scalar(sa.select(User.locale).where(User.trainee_id == certificate.trainee_id))
    return (locale,) if locale in LANGUAGES else BOTH


def _send(certificate: Certificate, kind: str, subject, **context) -> None:
    trainee = certificate.trainee
    if trainee.purged_at is not None or certificate.purged_at is not None or not trainee.email:
        return
    config = current_app.config
    subjects, bodies = [], []
    for locale in _languages(certificate):
        with force_locale(locale):
            subjects.append(str(subject))
            bodies.append(render_template(
                f"certificates/mail/{kind}.txt", certificate=certificate, locale=locale,
                holder=certificate.holder_ar if locale == "ar" and certificate.holder_ar else certificate.holder,
                title=certificate.content.title(locale), link=verify_url(config["BASE_URL"], certificate.token),
                mine=f"{config['BASE_URL']}/me/certificates", contact=config["CONTACT_EMAIL"],
                message=revocation_message(certificate), **context).strip())
    send_mail(trainee.email, " / ".join(subjects)[:300], SEPARATOR.join(bodies) + "\n")


def issued(certificate: Certificate, replaced: Certificate | None = None) -> None:
    """A new certificate, or a reissue (renewal) that replaces `replaced`."""
    if replaced is None:
        _send(certificate, "issued", _l("Your Kafaa certificate"))
    else:
        _send(certificate, "reissued", _l("Your Kafaa certificate was reissued"), replaced=replaced)


def revoked(certificate: Certificate) -> None:
    _send(certificate, "revoked", _l("Your Kafaa certificate was revoked"))
