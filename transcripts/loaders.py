"""Load-and-authorise helpers shared by the transcript pages and API."""
from __future__ import annotations

from flask import Response, abort
from flask_babel import lazy_gettext as _l

from accounts.permissions import current_actor
from common.errors import NotFound
from common.extensions import db
from skills.models import Trainee
from transcripts import queries
from transcripts.models import Transcript


def own_trainee() -> Trainee:
    """The signed-in trainee's own record (404, saying why, for an account not linked to one)."""
    actor = current_actor()
    trainee = db.session.get(Trainee, actor.trainee_id) if actor is not None and actor.trainee_id else None
    if trainee is None:
        raise NotFound(_l("Your account is not linked to a trainee record yet."))
    return trainee


def get_transcript_or_404(serial: str) -> Transcript:
    """An issued transcript its holder or an admin may download. To anyone else it does not exist (404)."""
    transcript = queries.transcript_by_serial(serial)
    actor = current_actor()
    if transcript is None or actor is None or not (
            actor.role == "admin" or (actor.trainee_id and actor.trainee_id == transcript.trainee_id)):
        abort(404)
    if transcript.purged_at is not None:
        raise NotFound(_l("This transcript was deleted with its holder's personal data, at the end of the "
                          "retention period."))
    return transcript


def pdf_response(transcript: Transcript) -> Response:
    return Response(transcript.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{transcript.serial}.pdf"', "Cache-Control": "private, no-store"})
