"""Transcripts on the JSON API: today's transcript (read), issuing a signed one, its PDF."""
from __future__ import annotations

from accounts.bearer import api_blueprint
from accounts.permissions import current_actor, require_role
from common.extensions import db
from common.openapi import BINARY, Answer, documented
from skills.loaders import get_trainee_or_404
from transcripts import operations
from transcripts.loaders import get_transcript_or_404, own_trainee, pdf_response
from transcripts.serializers import ISSUED_TRANSCRIPT, TRANSCRIPT, issued_json, transcript_json

bp = api_blueprint("transcripts_api", __name__)
PDF = Answer("The signed PDF (PAdES).", {"application/pdf": BINARY})
READ = ("Every module passed (once: a pass in a cohort wins over a recognition, the earliest pass over later "
        "ones), with its hours as decimal text, the day and how (`cohort` with its code and track, or "
        "`recognition` in force); every certificate with its status today; the total hours of distinct modules.")
ISSUE = ("Freezes the transcript as it stands, signs it and its PDF. 201 issued; 200 when one with exactly this "
         "content was issued today already (the same one is returned: asking again adds nothing).")


@bp.get("/me/transcript")
@require_role("trainee")
@documented("The token's own transcript, as of today", tag="Transcripts", responses={200: TRANSCRIPT},
            errors=(404,), description=READ)
def mine():
    trainee = own_trainee()
    return transcript_json(trainee.id, operations.current_record(trainee))


@bp.get("/trainees/<int:trainee_id>/transcript")
@require_role("admin", "trainer", "trainee")
@documented("A trainee's transcript, as of today", tag="Transcripts", responses={200: TRANSCRIPT},
            description=READ + " Admins: any trainee; trainers: the trainees of the cohorts they teach.")
def of_trainee(trainee_id: int):
    trainee = get_trainee_or_404(trainee_id)
    return transcript_json(trainee.id, operations.current_record(trainee))


@bp.post("/me/transcripts")
@require_role("trainee")
@documented("Issue the token's own signed transcript", tag="Transcripts",
            responses={201: ISSUED_TRANSCRIPT, 200: ISSUED_TRANSCRIPT}, errors=(404, 409), description=ISSUE)
def issue_mine():
    return _issued(*operations.issue_transcript(current_actor(), own_trainee()))


@bp.post("/trainees/<int:trainee_id>/transcripts")
@require_role("admin")
@documented("Issue a trainee's signed transcript", tag="Transcripts",
            responses={201: ISSUED_TRANSCRIPT, 200: ISSUED_TRANSCRIPT}, errors=(409,), description=ISSUE)
def issue_for_trainee(trainee_id: int):
    return _issued(*operations.issue_transcript(current_actor(), get_trainee_or_404(trainee_id)))


def _issued(transcript, created: bool):
    db.session.commit()
    return issued_json(transcript), 201 if created else 200


@bp.get("/transcripts/<serial>")
@require_role()
@documented("An issued transcript", tag="Transcripts", responses={200: ISSUED_TRANSCRIPT},
            description="Its holder or an admin; to anyone else it does not exist (404).")
def get(serial: str):
    return issued_json(get_transcript_or_404(serial))


@bp.get("/transcripts/<serial>/pdf")
@require_role()
@documented("Download an issued transcript's PDF", tag="Transcripts", responses={200: PDF})
def pdf(serial: str):
    return pdf_response(get_transcript_or_404(serial))
