"""The eligibility rule, on its own and through the database."""
from decimal import Decimal

import pytest

from skills.rules import eligibility, meets_attendance


@pytest.mark.parametrize("attended, counted, minimum, expected", [
    (4, 5, Decimal("0.8"), True),      # exactly at the minimum
    (3, 4, Decimal("0.8"), False),     # 75 % is below
    (8, 10, Decimal("0.8"), True),
    (79, 100, Decimal("0.8"), False),
    (2, 3, Decimal("0.6667"), False),  # 0.66666... is below 0.6667: no float rounding lets it through
    (0, 0, Decimal("0.8"), False),     # nothing counted yet is not attendance
    (0, 0, Decimal("0"), True),
    (1, 1, Decimal("1"), True),
])
def test_attendance_minimum_is_compared_exactly(attended, counted, minimum, expected):
    assert meets_attendance(attended, counted, minimum) is expected


def test_every_required_module_must_be_passed():
    result = eligibility(["A", "B", "C"], ["A", "C", "Z"], 10, 10, Decimal("0.8"))
    assert not result.eligible
    assert result.modules_missing == ("B",)
    assert result.modules_passed == ("A", "C")
    assert result.attendance_met


def test_eligible_when_modules_and_attendance_are_met():
    result = eligibility(["A"], ["A"], 4, 5, Decimal("0.8"))
    assert result.eligible and result.rate == Decimal("0.8")


def _attend(client, headers, session, statuses: dict):
    response = client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers,
                          json={"records": [{"trainee_id": t.id, "status": s} for t, s in statuses.items()]})
    assert response.status_code == 200, response.json


def _results(client, headers, cohort, records):
    response = client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": records})
    assert response.status_code == 200, response.json


def _progress(client, headers, trainee):
    response = client.get(f"/api/v1/trainees/{trainee.id}/progress", headers=headers)
    assert response.status_code == 200
    (track,) = response.json["tracks"]
    return track


def test_progress_edges_through_the_api(client, admin, token_for, make_track, make_trainee, make_cohort,
                                        make_session):
    """Excused sessions leave the count, late counts as attended, exactly 80 % is enough, and a module
    failed then passed counts as passed."""
    track = make_track(min_attendance=0.8)
    on_edge, below = make_trainee(), make_trainee()
    cohort = make_cohort(track=track, trainees=[on_edge, below])
    sessions = [make_session(cohort) for _ in range(6)]
    headers = token_for(admin)
    # on_edge: present, late, late, present, absent, excused -> 4 attended of 5 counted = 80 %
    # below:   present, absent, late, absent, present, present -> 4 of 6 = 66.7 %
    for session, (a, b) in zip(sessions, [("present", "present"), ("late", "absent"), ("late", "late"),
                                          ("present", "absent"), ("absent", "present"), ("excused", "present")]):
        _attend(client, headers, session, {on_edge: a, below: b})
    modules = [m.code for m in track.modules]
    _results(client, headers, cohort, [{"trainee_id": t.id, "module": m, "passed": m != modules[1], "score": 55}
                                       for t in (on_edge, below) for m in modules])

    edge = _progress(client, headers, on_edge)
    assert (edge["attended"], edge["counted"], edge["attendance_rate"]) == (4, 5, 0.8)
    assert edge["modules_passed"] == [modules[0]]
    assert edge["eligible"] is False
    assert [m["module"] for m in edge["missing"] if m["type"] == "module"] == [modules[1]]
    assert not [m for m in edge["missing"] if m["type"] == "attendance"]

    # The failed module is passed at a resit: the same result is updated, not duplicated.
    _results(client, headers, cohort, [{"trainee_id": on_edge.id, "module": modules[1], "passed": True, "score": 71}])
    edge = _progress(client, headers, on_edge)
    assert edge["eligible"] is True and edge["missing"] == []
    results = client.get(f"/api/v1/cohorts/{cohort.code}/results", headers=headers).json["records"]
    assert len([r for r in results if r["trainee_id"] == on_edge.id]) == len(modules)

    low = _progress(client, headers, below)
    assert (low["attended"], low["counted"]) == (4, 6)
    attendance_gap = [m for m in low["missing"] if m["type"] == "attendance"]
    assert attendance_gap and attendance_gap[0]["required"] == 0.8
    assert low["eligible"] is False


def test_no_attendance_yet_is_not_eligible(client, admin, token_for, make_track, make_trainee, make_cohort):
    track = make_track()
    trainee = make_trainee()
    cohort = make_cohort(track=track, trainees=[trainee])
    headers = token_for(admin)
    _results(client, headers, cohort, [{"trainee_id": trainee.id, "module": m.code, "passed": True}
                                       for m in track.modules])
    progress = _progress(client, headers, trainee)
    assert progress["attendance_rate"] is None
    assert progress["eligible"] is False
    assert progress["missing"][0]["type"] == "attendance"
