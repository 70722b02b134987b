"""Data for the durability tests: a cohort whose trainees attended, passed and were certified."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from certificates.models import Certificate
from common.extensions import db


@dataclass
class Programme:
    cohort: object
    track: object
    trainees: list
    certificates: list[Certificate]
    headers: dict


@pytest.fixture
def certified(client, admin, token_for, make_track, make_trainee, make_cohort, make_session):
    """Build a cohort of `size` trainees through the API; the first `certified` attend, pass and get a
    certificate of a track valid `validity_months`."""
    headers = token_for(admin)

    def make(size: int = 3, certified: int = 2, validity_months: int | None = 24, **trainee_fields) -> Programme:
        track = make_track(validity_months=validity_months)
        trainees = [make_trainee(**trainee_fields) for _ in range(size)]
        cohort = make_cohort(track=track, trainees=trainees)
        for module in track.modules:
            session = make_session(cohort, module=module.code)
            response = client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers, json={"records": [
                {"trainee_id": t.id, "status": "present" if i < certified else "absent"}
                for i, t in enumerate(trainees)]})
            assert response.status_code == 200, response.json
        response = client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": [
            {"trainee_id": t.id, "module": m.code, "passed": i < certified, "score": 90 if i < certified else 20}
            for i, t in enumerate(trainees) for m in track.modules]})
        assert response.status_code == 200, response.json
        for trainee in trainees[:certified]:
            response = client.post("/api/v1/certificates", headers=headers,
                                   json={"trainee_id": trainee.id, "track": track.code})
            assert response.status_code == 201, response.json
        certificates = list(db.session.scalars(
            sa.select(Certificate).where(Certificate.track_id == track.id).order_by(Certificate.id)))
        return Programme(cohort, track, trainees, certificates, headers)
    return make
