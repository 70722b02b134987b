"""Check-in on the JSON API."""
from __future__ import annotations

from accounts.bearer import api_blueprint
from accounts.permissions import current_actor, require_role
from checkin import operations
from checkin.codes import shown_code
from common import validation as v
from common.api import json_body
from common.errors import FieldErrors
from common.extensions import db
from common.openapi import BOOLEAN, DATETIME, INTEGER, STRING, Body, documented, obj, schema
from skills.loaders import get_session_or_404
from skills.models import TrainingSession

bp = api_blueprint("checkin_api", __name__)
SHOWN_CODE = schema("CheckinCode", obj({"code": STRING, "url": STRING, "expires_at": DATETIME}))


@bp.get("/sessions/<int:session_id>/checkin")
@require_role("admin", "trainer")
@documented("The check-in code on screen now", tag="Check-in", responses={200: SHOWN_CODE})
def current_code(session_id: int):
    return shown_code(get_session_or_404(session_id, manage=True)), 200, {"Cache-Control": "no-store"}


@bp.post("/sessions/<int:session_id>/checkin/open")
@require_role("admin", "trainer")
@documented("Open self check-in for a session", tag="Check-in",
            body=Body(obj({"late_after_minutes": {"type": "integer", "minimum": 0, "maximum": 240}}, required=())),
            responses={201: SHOWN_CODE})
def open_checkin(session_id: int):
    session = get_session_or_404(session_id, manage=True)
    operations.open_checkin(current_actor(), session, json_body().get("late_after_minutes", 15))
    db.session.commit()
    return shown_code(session), 201


@bp.post("/checkin")
@require_role("trainee")
@documented("Check in with the code on screen", tag="Check-in", errors=(409,),
            body=Body(obj({"code": STRING, "session_id": INTEGER}, required=("code",))),
            responses={s: obj({"status": STRING, "recorded": BOOLEAN}) for s in (200, 201)},
            description="201 when recorded, 200 when already checked in.")
def check_in():
    data = json_body()
    session = None
    if data.get("session_id") is not None:
        errors = FieldErrors()
        session_id = v.row_id(errors, "session_id", data["session_id"])
        errors.raise_if_any()
        session = db.get_or_404(TrainingSession, session_id)
    done = operations.check_in(current_actor(), data.get("code"), session)
    db.session.commit()
    return {"status": done.status, "recorded": done.created}, 201 if done.created else 200
