"""Certificates for admins (/admin/certificates and GET /api/v1/certificates?q=): search by serial (whole or
its start, however typed) and by holder's name in Latin or Arabic letters, filters by status, track and year,
pages, a serial that finds one certificate opens it, other roles refused, a bad filter explained. Each
certificate's page: what it certifies and its history after revoke, reinstate and reissue. "My
certificates": the link and code to share, and LinkedIn's Add to profile link carrying the certificate's
facts, shown only while the certificate is valid."""
from __future__ import annotations

import re
from datetime import date
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from certificates import admin_views
from certificates.models import Certificate
from certificates.rules import serial_search
from common import clock
from common.extensions import db
from tests.helpers import table_counts

EN = {"Accept-Language": "en"}


def _issue(admin, trainee, track, cohort, on: date | None = None):
    """Issue through the real path (results passed, then issue), on `on` when given."""
    from certificates.operations import issue_certificate
    from skills import operations

    operations.record_results(admin, cohort, [{"trainee_id": trainee.id, "module": m.code, "passed": True}
                                              for m in track.modules])
    with pytest.MonkeyPatch.context() as patch:
        if on is not None:
            patch.setattr(clock, "today", lambda: on)
        certificate = issue_certificate(admin, trainee, track)[0]
    db.session.commit()
    return certificate


@pytest.fixture
def registry(admin, make_track, make_trainee, make_cohort):
    """Three certificates: Amina's of track AI1 issued in 2025, Omar's (Arabic name عمر الفاسي) of AI1 and
    Amina's of AI2 issued today; Omar's then revoked."""
    from certificates.operations import revoke_certificate

    ai1, ai2 = make_track(code="AI1", min_attendance=0), make_track(code="AI2", min_attendance=0, validity_months=None)
    amina = make_trainee(name="Amina El Idrissi", name_ar="أمينة الإدريسي")
    omar = make_trainee(name="Omar Fassi", name_ar="عمر الفاسي")
    c1 = make_cohort(track=ai1, trainees=[amina, omar])
    c2 = make_cohort(track=ai2, trainees=[amina])
    old = _issue(admin, amina, ai1, c1, on=date(2025, 6, 10))
    omars = _issue(admin, omar, ai1, c1)
    aminas = _issue(admin, amina, ai2, c2)
    revoke_certificate(admin, omars, "Fraude signalée par l'employeur")
    db.session.commit()
    return {"old": old, "omar": omars, "ai2": aminas, "amina": amina, "omar_trainee": omar, "ai1": ai1}


def _serials(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return re.findall(r'href="/admin/certificates/(KF-\d{4}-\d{6})"', response.get_data(as_text=True))


def test_serial_search_reads_what_people_type():
    assert serial_search("kf 2026 000012") == "KF-2026-000012"
    assert serial_search("  KF-2026-000123 ") == "KF-2026-000123"
    assert serial_search("KF – 2026 – 00") == "KF-2026-00"
    assert serial_search("٢٠٢٦-٠٠٠١٢٣") == "KF-2026-000123"  # Arabic-Indic digits, prefix left out
    assert serial_search("2026000123") == "KF-2026-000123"
    for not_a_serial in ("Amina", "Kfir", "202", "KF-2026-0001234", "", None, "عمر"):
        assert serial_search(not_a_serial) is None, not_a_serial


def test_search_by_serial_whole_or_start_however_typed(client, login, admin, registry):
    login(admin)
    omar, old, ai2 = registry["omar"], registry["old"], registry["ai2"]
    # A whole serial that finds one certificate opens its page, typed in any case, with spaces.
    for typed in (omar.serial, omar.serial.lower(), " " + omar.serial.replace("-", " ") + " "):
        response = client.get("/admin/certificates", query_string={"q": typed})
        assert response.status_code == 302 and response.headers["Location"] == f"/admin/certificates/{omar.serial}"
    # The start of serials lists those that begin with it.
    year = str(clock.today().year)
    assert sorted(_serials(client.get("/admin/certificates", query_string={"q": f"kf-{year}"}))) == \
        sorted([omar.serial, ai2.serial])
    assert client.get("/admin/certificates", query_string={"q": "KF 2025"}).headers["Location"].endswith(old.serial)
    assert _serials(client.get("/admin/certificates", query_string={"q": "KF-1999"})) == []
    # A certificate's address typed loosely goes to the written one.
    loose = client.get(f"/admin/certificates/{omar.serial.lower()}")
    assert loose.status_code == 302 and loose.headers["Location"].endswith(f"/admin/certificates/{omar.serial}")
    assert client.get("/admin/certificates/KF-2026-999999").status_code == 404


def test_search_by_name_in_latin_or_arabic_letters(client, login, admin, registry):
    login(admin)
    aminas = sorted([registry["old"].serial, registry["ai2"].serial])
    assert sorted(_serials(client.get("/admin/certificates", query_string={"q": "amina  el"}))) == aminas
    assert sorted(_serials(client.get("/admin/certificates", query_string={"q": "أمينة"}))) == aminas
    # One match by name is listed, not opened: a name is not a serial, and two people may share it.
    assert _serials(client.get("/admin/certificates", query_string={"q": "الفاسي"})) == [registry["omar"].serial]
    assert _serials(client.get("/admin/certificates", query_string={"q": "FASSI"})) == [registry["omar"].serial]
    nothing = client.get("/admin/certificates", query_string={"q": "100%_x"}, headers=EN)
    assert _serials(nothing) == [] and "Nothing matches" in nothing.get_data(as_text=True)


def test_filters_by_status_track_and_year(client, login, admin, registry):
    login(admin)

    def serials(**args):
        return sorted(_serials(client.get("/admin/certificates", query_string=args)))

    old, omar, ai2 = registry["old"].serial, registry["omar"].serial, registry["ai2"].serial
    assert serials(status="revoked") == [omar]
    assert serials(status="valid") == sorted([old, ai2])
    assert serials(track="AI2") == [ai2]
    assert serials(track="AI1", status="valid") == [old]
    assert serials(year="2025") == [old]
    assert serials(year=str(clock.today().year), track="AI1") == [omar]
    assert serials(status="expired") == [] and serials(status="superseded") == []
    assert serials() == sorted([old, omar, ai2])
    page = client.get("/admin/certificates", query_string={"year": "2025"}).get_data(as_text=True)
    assert '<option value="2025" selected>2025</option>' in page


def test_the_list_pages(client, login, admin, registry, monkeypatch):
    monkeypatch.setattr(admin_views, "PER_PAGE", 2)
    login(admin)
    first = client.get("/admin/certificates", headers=EN)
    second = client.get("/admin/certificates", query_string={"page": 2}, headers=EN)
    assert len(_serials(first)) == 2 and len(_serials(second)) == 1
    assert set(_serials(first)) | set(_serials(second)) == {registry[k].serial for k in ("old", "omar", "ai2")}
    assert "Page 1 of 2" in first.get_data(as_text=True) and "3 results" in first.get_data(as_text=True)


@pytest.mark.parametrize("args, field", [({"status": "lost"}, "status"), ({"track": "NOPE"}, "track"),
                                         ({"year": "last"}, "year"), ({"year": "20250"}, "year")])
def test_a_bad_filter_is_explained_on_the_page(client, login, admin, registry, args, field):
    login(admin)
    for language, words in (("en", ("Unknown", "Must be")), ("fr", ("inconnu", "Doit"))):
        response = client.get("/admin/certificates", query_string=args, headers={"Accept-Language": language})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert re.search(rf'<small class="error" id="error-{field}" role="alert">[^<]*({"|".join(words)})', html), html
        assert _serials_in(html) == []


def _serials_in(html: str) -> list[str]:
    return re.findall(r'href="/admin/certificates/(KF-\d{4}-\d{6})"', html)


@pytest.mark.parametrize("role", ["governance", "trainer", "trainee"])
def test_other_roles_are_refused(client, login, make_user, registry, role, token_for):
    user = make_user(role, trainee_id=registry["amina"].id if role == "trainee" else None)
    login(user)
    for url in ("/admin/certificates", f"/admin/certificates/{registry['old'].serial}",
                f"/admin/certificates?q={registry['old'].serial}"):
        assert client.get(url).status_code == 403, url
    assert client.get("/api/v1/certificates?q=KF", headers=token_for(user)).status_code == 403
    client.post("/logout")
    assert client.get("/admin/certificates").status_code == 302  # signed out: to the sign-in page


def test_the_menu_leads_admins_there(client, login, admin, make_user):
    login(admin)
    assert 'href="/admin/certificates"' in client.get("/trainees").get_data(as_text=True)
    login(make_user("governance"))
    assert 'href="/admin/certificates"' not in client.get(url_for("governance.dashboard")).get_data(as_text=True)


def test_api_searches_and_filters_the_same_way(client, admin, token_for, registry):
    headers = {**token_for(admin), **EN}

    def serials(**args):
        response = client.get("/api/v1/certificates", query_string=args, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "page", "per_page", "total", "pages"}
        return sorted(item["serial"] for item in body["items"])

    old, omar, ai2 = registry["old"].serial, registry["omar"].serial, registry["ai2"].serial
    assert serials(q=omar.lower().replace("-", " ")) == [omar]
    assert serials(q="عمر") == [omar]
    assert serials(q="amina", track="AI1") == [old]
    assert serials(q="amina", year=2025) == [old]
    assert serials(status="revoked", q="fassi") == [omar]
    assert serials(q="KF", per_page=1, page=3) == [min(old, omar, ai2)]  # newest first: the oldest last


def test_api_refuses_unknown_filter_values_all_at_once(client, admin, token_for, registry):
    headers = {**token_for(admin), "Accept-Language": "fr"}
    before = table_counts()
    response = client.get("/api/v1/certificates", query_string={"status": "lost", "track": "NOPE", "year": "x",
                                                                 "trainee_id": "abc"}, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert set(errors) == {"status", "track", "year", "trainee_id"}
    assert "inconnu" in errors["track"][0] and "NOPE" in errors["track"][0]
    db.session.rollback()
    assert table_counts() == before


def test_a_certificates_page_shows_what_it_certifies(client, login, admin, registry):
    old = registry["old"]
    # Editing the track afterwards changes nothing on the page: it shows what was certified.
    registry["ai1"].title_fr, registry["ai1"].title_en = "Nouveau titre", "Renamed"
    db.session.commit()
    login(admin)
    html = client.get(f"/admin/certificates/{old.serial}", headers=EN).get_data(as_text=True)
    assert "Amina El Idrissi" in html and "أمينة الإدريسي" in html
    assert f'href="/trainees/{registry["amina"].id}"' in html
    assert "Nouveau titre" not in html and "Renamed" not in html
    for module in old.content.modules:
        assert module.code in html and module.title("en") in html
    assert old.verification_code in html and "https://kafaa.test/v/" in html
    assert f'href="/certificates/{old.serial}.pdf"' in html
    back = f"?next=/admin/certificates/{old.serial}"  # the acts come back to this page
    assert f'href="/certificates/{old.serial}/revoke{back}"' in html
    assert f'href="/certificates/{old.serial}/reissue{back}"' in html
    omar = registry["omar"].serial
    revoked = client.get(f"/admin/certificates/{omar}", headers=EN).get_data(as_text=True)
    assert f'href="/certificates/{omar}/reinstate?next=/admin/certificates/{omar}"' in revoked
    assert "/revoke?" not in revoked and "Fraude signalée par l&#39;employeur" in revoked


def _history(client, serial) -> list[str]:
    html = client.get(f"/admin/certificates/{serial}", headers=EN).get_data(as_text=True)
    items = re.search(r'<ol class="history">(.*?)</ol>', html, re.S).group(1)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in re.findall(r"<li>(.*?)</li>", items, re.S)]


def test_history_after_revoke_reinstate_and_reissue(client, login, admin, registry):
    omar = registry["omar"]
    login(admin)
    assert client.post(f"/certificates/{omar.serial}/reinstate",
                       data={"reason": "Erreur de dossier", "confirm": "y"}).status_code == 302
    assert client.post(f"/certificates/{omar.serial}/revoke", data={"reason": "Second avis"}).status_code == 302
    assert client.post(f"/certificates/{omar.serial}/reinstate",
                       data={"reason": "Vérifié", "confirm": "y"}).status_code == 302
    assert client.post(f"/certificates/{omar.serial}/reissue").status_code == 302
    db.session.expire_all()
    new = db.session.scalar(sa.select(Certificate).where(Certificate.superseded_by_id.is_(None),
                                                         Certificate.trainee_id == omar.trainee_id))
    assert new.serial != omar.serial
    history = _history(client, omar.serial)
    assert [h.split(" — ", 1)[1].split(" ")[0] for h in history] == \
        ["Issued.", "Revoked.", "Revocation", "Revoked.", "Revocation", "Replaced"]
    assert "Reason: Fraude signalée par l'employeur" in history[1] and "by admin@kafaa.ma" in history[1]
    assert "Reason: Erreur de dossier" in history[2] and "Reason: Second avis" in history[3]
    assert "Reason: Vérifié" in history[4]
    assert f"Replaced by {new.serial} (reissued)." in history[5]
    old_page = client.get(f"/admin/certificates/{omar.serial}").get_data(as_text=True)
    assert f'href="/admin/certificates/{new.serial}"' in old_page
    new_history = _history(client, new.serial)
    assert len(new_history) == 1 and f"Issued, replacing {omar.serial}." in new_history[0]
    assert f'href="/admin/certificates/{omar.serial}"' in client.get(f"/admin/certificates/{new.serial}").get_data(as_text=True)


def test_history_without_an_audit_trail_is_told_from_the_certificate(client, login, admin, registry):
    """A certificate written before the trail (or imported): issued and revoked, from its own columns."""
    from audit.models import AuditEntry

    omar = registry["omar"]
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.target_id == omar.serial))
    db.session.commit()
    login(admin)
    history = _history(client, omar.serial)
    assert len(history) == 2 and "Issued." in history[0] and "Reason: Fraude signalée" in history[1]


# --- "My certificates": sharing ---------------------------------------------------------------------------

def _linkedin(html: str) -> list[dict[str, list[str]]]:
    links = re.findall(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', html)
    return [parse_qs(urlsplit(unescape(link)).query, strict_parsing=True) for link in links]


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_linkedin_link_carries_the_certificates_facts(client, login, make_user, registry, language):
    login(make_user("trainee", trainee_id=registry["amina"].id))
    html = client.get("/me/certificates", headers={"Accept-Language": language}).get_data(as_text=True)
    links = {params["certId"][0]: params for params in _linkedin(html)}
    old, ai2 = registry["old"], registry["ai2"]
    assert set(links) == {old.serial, ai2.serial}
    for certificate in (old, ai2):
        params, content = links[certificate.serial], certificate.content
        verify = f"https://kafaa.test/v/{certificate.token}"
        expected = {"startTask": ["CERTIFICATION_NAME"], "name": [content.title(language)],
                    "organizationName": [content.issuer_name(language)],
                    "issueYear": [str(certificate.issued_on.year)], "issueMonth": [str(certificate.issued_on.month)],
                    "certUrl": [verify], "certId": [certificate.serial]}
        if certificate.expires_on:
            expected |= {"expirationYear": [str(certificate.expires_on.year)],
                         "expirationMonth": [str(certificate.expires_on.month)]}
        assert params == expected
        assert verify in html and certificate.verification_code in html
    assert "expirationYear" not in links[ai2.serial]  # AI2 never expires
    assert 'aria-live="polite"' in html and "share.js" in html
    assert re.search(r'<button type="button" class="copy"[^>]* hidden', html)  # shown by the script only


def test_sharing_is_offered_only_for_a_valid_certificate(client, login, admin, make_user, registry, monkeypatch):
    from certificates.operations import reissue_certificate

    login(make_user("trainee", trainee_id=registry["omar_trainee"].id))
    revoked = client.get("/me/certificates", headers=EN).get_data(as_text=True)
    assert registry["omar"].serial in revoked
    assert _linkedin(revoked) == [] and "/v/" not in revoked and registry["omar"].verification_code not in revoked
    # Amina: her AI1 certificate replaced, the replacement expired; her AI2 one stays valid.
    reissue_certificate(admin, registry["old"])
    db.session.commit()
    login(make_user("trainee", trainee_id=registry["amina"].id))
    monkeypatch.setattr(clock, "today", lambda: date(2099, 1, 1))
    html = client.get("/me/certificates", headers=EN).get_data(as_text=True)
    assert [p["certId"][0] for p in _linkedin(html)] == [registry["ai2"].serial]
    assert registry["old"].verification_code not in html


def test_the_status_filter_agrees_with_the_rule_on_every_day(admin, registry):
    """queries._status_condition is the SQL twin of rules.certificate_status: the same certificates on the
    day before expiry, the last valid day and the day after, once one is replaced too."""
    from certificates.operations import reissue_certificate
    from certificates.queries import certificates

    reissue_certificate(admin, registry["old"])
    db.session.commit()
    every = db.session.scalars(sa.select(Certificate)).all()
    expiry = registry["old"].expires_on
    for day in (clock.today(), expiry.replace(day=1), expiry, date(2099, 1, 1)):
        for status in ("valid", "expired", "revoked", "superseded"):
            in_sql = set(db.session.scalars(certificates(status=status, day=day)))
            assert in_sql == {c for c in every if c.status_on(day) == status}, (day, status)
