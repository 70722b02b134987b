"""The privacy notice: its version and the settings it names. The text itself is the template
privacy/_notice.html, translated through the catalogs like every other page."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from common.errors import FieldErrors

# Change this whenever the notice says something new: everyone signed in is then asked to accept it again.
NOTICE_VERSION = "2026-12"  # recognitions, transcripts, mails on certificates, wider small-count rule


def notice_context() -> dict[str, Any]:
    config = current_app.config
    return {"notice_version": NOTICE_VERSION, "controller": config["PRIVACY_CONTROLLER"],
            "contact_email": config["PRIVACY_CONTACT_EMAIL"], "cndp_reference": config.get("CNDP_REFERENCE"),
            "retention_years": config["RETENTION_PERSON_YEARS"]}


def has_accepted_current(user) -> bool:
    return user.privacy_notice_version == NOTICE_VERSION


NOTICE_NOT_ACCEPTED = _l("Read the privacy notice, then tick the box to accept it.")


def check_accepted(errors: FieldErrors, accepted: Any) -> None:
    """Only a literal yes counts as accepting the notice."""
    if accepted is not True:
        errors.add("accept_privacy", NOTICE_NOT_ACCEPTED)
