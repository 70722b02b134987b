"""The API's description: complete (no /api/v1 route without one), valid OpenAPI 3.1, readable at /api/docs,
and true: schemathesis sends generated requests to a live server and checks every answer against it."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from common.extensions import db
from common.openapi import undocumented

# Generated requests per operation, per account. Bounded so the whole run stays well under a minute per
# database; derandomised so a failure found once is found again on the next run.
EXAMPLES = {"admin": 6, "trainer": 2, "trainee": 2}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_every_api_route_is_documented(app):
    """A route added under /api/v1 without @documented fails here: that is what keeps the description true."""
    assert undocumented(app) == []


def test_description_is_openapi_3_1_of_every_route(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(document)  # refuses a document that is not valid OpenAPI
    operations = [result.ok() for result in schema.get_all_operations()]
    api_rules = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
                 for m in r.methods - {"HEAD", "OPTIONS"}}
    assert len(operations) == len(api_rules)
    # Every operation that needs a token says so, answers 401 without one, and 422 is described with its schema.
    listing = document["paths"]["/api/v1/trainees"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"cohort", "track", "sector", "region", "updated_since",
                                                          "page", "per_page"}
    assert {"401", "403", "422"} <= set(listing["responses"])
    assert document["paths"]["/api/v1/tokens"]["post"]["security"] == []
    assert document["paths"]["/api/v1/trainees/{trainee_id}"]["get"]["parameters"][0]["schema"]["type"] == "integer"


@pytest.mark.parametrize("lang, heading", [("en", "API documentation"), ("fr", "Documentation de l’API"),
                                           ("ar", "توثيق واجهة البرمجة")])
def test_docs_page_lists_every_operation(client, lang, heading):
    document = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/docs", headers={"Accept-Language": lang})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert heading in html
    for methods in document["paths"].values():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in html
    assert "Amina El Idrissi" in html  # examples built from the schemas, with their own sample values
    assert "<script" not in html  # the CSP allows no inline script; the page needs none


@pytest.fixture
def registry(make_user, make_track, make_trainee, make_cohort, make_session):
    """A little of everything, so generated requests also meet real rows: a cohort with a trainer and two
    trainees, a session with attendance, results, a certificate, and the accounts that call the API."""
    from certificates.operations import issue_certificate
    from skills import operations

    admin, trainer = make_user("admin"), make_user("trainer")
    t1, t2 = make_trainee(), make_trainee()
    track = make_track()
    cohort = make_cohort(track=track, trainers=[trainer], trainees=[t1, t2])
    session = make_session(cohort)
    operations.record_attendance(admin, session, [{"trainee_id": t.id, "status": "present"} for t in (t1, t2)])
    operations.record_results(admin, cohort, [{"trainee_id": t1.id, "module": m.code, "passed": True}
                                              for m in track.modules])
    certificate = issue_certificate(admin, t1, track)[0]
    db.session.commit()
    known = {"code": cohort.code, "trainee_id": t1.id, "session_id": session.id, "serial": certificate.serial,
             "quarter": "2026-Q3"}
    accounts = {"admin": admin, "trainer": trainer, "trainee": make_user("trainee", trainee_id=t1.id)}
    return accounts, known


# Operations that end the caller's own access (its token, its sessions, its account) would leave every later
# request of the run at 401: test_account_control.py covers them.
ENDS_ACCESS = {"DELETE /api/v1/tokens/current", "DELETE /api/v1/users/{user_id}/tokens/{token_id}",
               "POST /api/v1/users/{user_id}/sign-out", "POST /api/v1/users/{user_id}/disable"}


def _fuzz(schema, base_url: str, headers: dict, known: dict, examples: int) -> list[str]:
    """Every operation, `examples` generated requests each: as generated (mostly unknown ids and codes), and
    again with the path pointing at real rows. Returns one line per failing operation."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in ENDS_ACCESS:
            continue
        strategy = operation.as_strategy()

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy, real=st.booleans())
        def run(case, real):
            if real and case.path_parameters:
                case.path_parameters = {name: known.get(name, value) for name, value in case.path_parameters.items()}
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # every failing operation is reported, not the first only
            failures.append(f"{operation.label}: {error}")
    return failures


@pytest.mark.parametrize("role", list(EXAMPLES))
@pytest.mark.multiprocess
def test_live_server_keeps_to_its_description(app, live_url, registry, token_for, role):
    """No 500, no undocumented status or media type, no answer that breaks its own schema."""
    accounts, known = registry
    headers = {**token_for(accounts[role]), "Accept-Language": "en"}
    import requests

    document = requests.get(f"{live_url}/api/v1/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    failures = _fuzz(schema, live_url, headers, known, EXAMPLES[role])
    db.session.rollback()
    assert not failures, "\n\n".join(failures)
