"""The public face: the landing page, the verification pages and the privacy notice answer without a
session and set no cookie, in every state and language; the language comes from ?lang= or the browser."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale
from markupsafe import escape

from certificates import views as certificate_views
from common import clock
from certificates import verification
from common.errors import HTTP_TITLES
from common.i18n import PUBLIC_LANGUAGES
from common.public import public_language, render_public
from common.validation import CONTROL_MESSAGE
from tests.helpers import complete_track

LANGUAGE_HEADERS = [{"Accept-Language": code} for code in PUBLIC_LANGUAGES]


@pytest.fixture
def issue(client, admin, token_for, make_track, make_trainee):
    """Issue a certificate to a new trainee who passed a track; returns the API's answer and the headers."""
    headers = token_for(admin)
    track = make_track(validity_months=24)

    def make() -> dict:
        trainee = make_trainee()
        complete_track(client, headers, admin, trainee, track)
        issued = client.post("/api/v1/certificates", headers=headers, json={"trainee_id": trainee.id, "track": track.code})
        assert issued.status_code == 201, issued.json
        return issued.json
    return make, headers


@pytest.fixture
def visitor(app):
    """A browser that has never been here: no cookie at all."""
    return app.test_client()


def _public_get(visitor, path: str, **kwargs):
    response = visitor.get(path, **kwargs)
    assert "Set-Cookie" not in response.headers, (path, response.headers.get("Set-Cookie"))
    assert visitor.get_cookie("session") is None
    text = response.get_data(as_text=True)
    assert "csrf_token" not in text and "Sign out" not in text, path
    return response, text


def _path(url: str) -> str:
    return urlsplit(url).path


def test_landing_page_for_a_signed_out_visitor(visitor):
    response, text = _public_get(visitor, "/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "national registry of AI reasoning training" in text and "Check a certificate" in text
    # The check is a GET form to /verify; sign in and the privacy notice are links; so is the favicon.
    assert re.search(r'<form method="get" action="/verify"', text)
    assert 'href="/login"' in text and 'href="/privacy?lang=en"' in text
    assert 'rel="icon" href="/static/favicon.svg"' in text
    assert 'href="/?lang=ar"' in text and 'href="/?lang=fr"' in text  # switched by links, not a form
    with visitor.get("/static/favicon.svg") as favicon:
        assert favicon.status_code == 200 and favicon.mimetype == "image/svg+xml"


def test_signed_in_people_land_where_they_did(client, login, make_user):
    login(make_user("trainer"))
    assert _path(client.get("/").headers["Location"]) == "/cohorts"
    login(make_user("trainee"))
    assert _path(client.get("/").headers["Location"]) == "/me/progress"


@pytest.mark.parametrize("headers", LANGUAGE_HEADERS, ids=lambda h: h["Accept-Language"])
def test_no_cookie_on_any_public_page_in_any_state(visitor, issue, headers, monkeypatch):
    make, admin_headers = issue
    valid, revoked, old = make(), make(), make()
    assert visitor.post(f"/api/v1/certificates/{revoked['serial']}/revoke", headers=admin_headers,
                        json={"reason": "error"}).status_code == 200
    new = visitor.post(f"/api/v1/certificates/{old['serial']}/reissue", headers=admin_headers)
    assert new.status_code == 201
    assert visitor.get_cookie("session") is None  # bearer-token calls set none

    expected = {
        _path(valid["verify_url"]): (200, "verdict-valid"),
        _path(revoked["verify_url"]): (200, "verdict-revoked"),
        _path(old["verify_url"]): (200, "verdict-superseded"),
        "/v/not-a-token": (400, "verdict-invalid"),
        f"/verify?serial={valid['serial']}&code={valid['verification_code']}": (200, "verdict-valid"),
        f"/verify?serial={valid['serial']}&code=ZZZZ-ZZZZ": (404, "verdict-mismatch"),
        f"/verify?serial=KF-1999-000001&code={valid['verification_code']}": (404, "verdict-not_found"),
        "/verify?serial=&code=": (422, 'class="error"'),
        "/verify": (200, 'action="/verify"'),
        "/privacy": (200, "<h1>"),
        "/": (200, 'action="/verify"'),
    }
    for path, (status, marker) in expected.items():
        response, text = _public_get(visitor, path, headers=headers)
        assert response.status_code == status and marker in text, (path, response.status_code)
        assert f'<html lang="{headers["Accept-Language"]}"' in text
    monkeypatch.setattr(clock, "today", lambda: date.fromisoformat(valid["expires_on"]) + timedelta(days=1))
    response, text = _public_get(visitor, _path(valid["verify_url"]), headers=headers)
    assert response.status_code == 200 and "verdict-expired" in text
    for lang in PUBLIC_LANGUAGES:  # ?lang= wins over the browser's language
        response, text = _public_get(visitor, _path(valid["verify_url"]) + f"?lang={lang}", headers=headers)
        assert f'<html lang="{lang}"' in text


def test_pdf_check_needs_no_session_nor_csrf_token(app, visitor, issue, monkeypatch):
    app.config["WTF_CSRF_ENABLED"] = True
    make, admin_headers = issue
    issued = make()
    original = visitor.get(issued["pdf_url"], headers=admin_headers).data
    visitor.delete_cookie("session")
    good = visitor.post("/verify?lang=en", data={"pdf": (io.BytesIO(original), "c.pdf")},
                        content_type="multipart/form-data")
    assert good.status_code == 200 and "unaltered original" in good.get_data(as_text=True)
    assert "Set-Cookie" not in good.headers
    forged = visitor.post("/verify?lang=en", data={"pdf": (io.BytesIO(b"%PDF-1.7 not ours"), "c.pdf")},
                          content_type="multipart/form-data")
    assert forged.status_code == 422 and "Not an original" in forged.get_data(as_text=True)
    missing = visitor.post("/verify?lang=en", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "This field is required." in missing.get_data(as_text=True)
    assert "Set-Cookie" not in forged.headers and "Set-Cookie" not in missing.headers
    # Too large: refused before any lookup (the real original, with the limit lowered under its size).
    monkeypatch.setattr(certificate_views, "MAX_PDF_CHECK_BYTES", len(original) - 1)
    big = visitor.post("/verify?lang=en", data={"pdf": (io.BytesIO(original), "c.pdf")},
                       content_type="multipart/form-data")
    assert big.status_code == 422 and "Not an original" in big.get_data(as_text=True) and "Set-Cookie" not in big.headers


def test_public_pages_ignore_the_session(client, make_user, login):
    """A language chosen in the back office (session, account) does not reach the public pages, which
    neither read nor refresh the session: their language is ?lang=, then the browser's."""
    anonymous_choice = client.post("/language", data={"lang": "ar", "next": "/login"})
    assert anonymous_choice.status_code == 302 and client.get_cookie("session") is not None
    for path in ("/", "/verify", "/privacy", "/v/not-a-token"):
        response = client.get(path, headers={"Accept-Language": "en"})
        assert '<html lang="en"' in response.get_data(as_text=True), path
        assert "Set-Cookie" not in response.headers, path
    user = make_user("admin")
    login(user)
    response = client.get("/verify?lang=fr")
    assert '<html lang="fr"' in response.get_data(as_text=True) and "Set-Cookie" not in response.headers


def test_a_revocation_shows_on_the_next_html_check(visitor, issue):
    make, admin_headers = issue
    issued = make()
    path = _path(issued["verify_url"])
    assert "verdict-valid" in visitor.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    visitor.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=admin_headers, json={"reason": "error"})
    assert "verdict-revoked" in visitor.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)


def test_verdict_in_large_type_with_an_icon_then_the_facts(visitor, issue):
    make, _ = issue
    issued = make()
    _, text = _public_get(visitor, _path(issued["verify_url"]) + "?lang=en")
    verdict_at, facts_at = text.index('class="verdict verdict-valid"'), text.index('class="facts"')
    assert verdict_at < facts_at
    assert re.search(r'<h1><span class="icon" aria-hidden="true">✓</span> Valid certificate</h1>', text)
    assert 'class="mark"' in text and "#0B6E4F" in text  # the programme's mark in the certificate's green


def test_tifinagh_renders_with_the_font_shipped_with_the_app(visitor):
    """A Tifinagh name on a verification page needs no font on the phone: the CSS points Tifinagh letters at
    Noto Sans Tifinagh, served from static/ with its licence beside it."""
    with visitor.get("/static/kafaa.css") as css:
        rule = re.search(r"@font-face \{[^}]*\}", css.get_data(as_text=True)).group(0)
    assert 'url("fonts/NotoSansTifinagh-Regular.ttf")' in rule and "U+2D30-2D7F" in rule
    with visitor.get("/static/fonts/NotoSansTifinagh-Regular.ttf") as font:
        assert font.status_code == 200 and font.data[:4] == b"\x00\x01\x00\x00"  # a TrueType font
        assert "Set-Cookie" not in font.headers
    with visitor.get("/static/fonts/NotoSansTifinagh-OFL.txt") as licence:
        assert b"SIL OPEN FONT LICENSE" in licence.data.upper()


def test_amazigh_on_the_public_pages_only(client, visitor, issue):
    make, _ = issue
    issued = make()
    for path in ("/", "/verify", "/privacy", _path(issued["verify_url"])):
        response, text = _public_get(visitor, path + "?lang=zgh")
        assert '<html lang="zgh" dir="ltr"' in text and "ⵙⵏⵇⴷ" in text, path
    _, text = _public_get(visitor, _path(issued["verify_url"]), headers={"Accept-Language": "zgh, ar;q=0.8"})
    assert "ⴰⵙⵖⵉⵡⵙ ⵉⵖⵓⴷⴰⵏ" in text  # the verdict, in Tifinagh
    _, text = _public_get(visitor, "/privacy?lang=zgh")
    assert 'href="/privacy?lang=ar"' in text and 'href="/privacy?lang=fr"' in text  # the full text
    # The back office stays French, Arabic or English, whatever is asked.
    for headers, query in (({"Accept-Language": "zgh"}, ""), ({}, "?lang=zgh")):
        page = client.get("/login" + query, headers=headers).get_data(as_text=True)
        assert '<html lang="zgh"' not in page and '<html lang="fr"' in page


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_pages_translated_when_compiled_read_as_translated_when_rendered(app, issue, lang, monkeypatch):
    """The verification page, whose catalog strings are translated when the template is compiled, is the
    page the same template gives translated string by string, in every state and language."""
    make, _ = issue
    token = _path(make()["verify_url"]).rsplit("/", 1)[1]
    for path, state in ((f"/v/{token}", "valid"), ("/verify", "form"), ("/verify", "unavailable")):
        with app.test_request_context(f"{path}?lang={lang}", headers={"Accept": "text/html"}):
            app.preprocess_request()
            context = {"verdict": verification.verify_token(token) if state == "valid" else None,
                       "unavailable": state == "unavailable"}
            by_string = app.jinja_env.get_template("certificates/verify.html").render(
                {"today": clock.today(), **public_language(lang).variables, **context})
            compiled = render_public("certificates/verify.html", **context).get_data(as_text=True)
        assert compiled == by_string, (lang, state)
        assert f'<html lang="{lang}"' in compiled


def test_only_argument_free_catalog_calls_are_translated_when_compiled(app):
    with app.test_request_context("/verify?lang=fr"):
        environment = public_language("fr").environment
        page = environment.from_string(
            "{{ _('Holder') }}|{{ gettext('Track') }}|{{ _('Total: %(hours)s h', hours=3) }}|{{ obj._('Holder') }}")
        source = environment.compile(
            "{{ _('Holder') }}|{{ _('Total: %(hours)s h', hours=3) }}", raw=True)
    assert "Titulaire" in source and "'Holder'" not in source  # a constant in the compiled code
    assert "Total: %(hours)s h" in source  # a call with arguments stays a call
    rendered = page.render(_=lambda s, **v: f"<{s % v}>", gettext=None, obj={"_": lambda s: f"[{s}]"})
    assert rendered.startswith("Titulaire|Parcours|&lt;Total")
    assert rendered.endswith("|[Holder]")  # an attribute named _ is not the catalog


def test_language_links_keep_what_was_typed_and_escape_it(visitor):
    """Switching language on a typed check keeps the serial and code (a link, not a form), quoted so a typed
    value cannot break out of the attribute; the path of a verification link is kept as it came."""
    _, text = _public_get(visitor, '/verify?serial=KF-2026-000001&code=AB"><x&lang=fr')
    assert 'href="/verify?serial=KF-2026-000001&amp;code=AB%22%3E%3Cx&amp;lang=ar"' in text
    assert '"><x' not in text
    _, text = _public_get(visitor, "/v/abc%20def?lang=en")
    assert 'href="/v/abc%20def?lang=zgh" lang="zgh" hreflang="zgh"' in text
    assert 'href="/v/abc%20def?lang=en" lang="en" hreflang="en" aria-current="true"' in text


# Errors a visitor without a session can meet: on a public page (an argument refused before the view, a
# control character) and elsewhere (no such page, no such file, a method the address does not take).
ERRORS = [("GET", "/verify?page=0", 404, HTTP_TITLES[404]), ("GET", "/verify?serial=%00&code=x", 422, CONTROL_MESSAGE),
          ("GET", "/v/123?x=%00", 422, CONTROL_MESSAGE), ("GET", "/no-such-page", 404, HTTP_TITLES[404]),
          ("GET", "/static/no-such.css", 404, HTTP_TITLES[404]), ("PUT", "/verify", 405, HTTP_TITLES[405])]


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_errors_set_no_cookie_on_a_visitor_and_speak_the_public_languages(app, visitor, lang):
    """An error page is no reason to hand a visitor a session cookie (a tracking identifier): it comes in the
    public layout, in the language of ?lang= or the browser's, Tamazight included."""
    for method, path, status, message in ERRORS:
        for query, headers in (("", {"Accept-Language": lang}), (f"{'&' if '?' in path else '?'}lang={lang}", {})):
            response = visitor.open(path + query, method=method, headers=headers)
            text = response.get_data(as_text=True)
            assert response.status_code == status, (method, path, response.status_code)
            assert "Set-Cookie" not in response.headers and visitor.get_cookie("session") is None, path
            assert "csrf_token" not in text and f'<html lang="{lang}"' in text, path
            with app.test_request_context(), force_locale(lang):
                assert str(escape(str(message))) in text, (path, lang)
            assert response.headers["Cache-Control"] == "no-store"


def test_a_throttled_check_sets_no_cookie_either(app, visitor):
    app.config["VERIFY_RATE_LIMIT"] = "2 per minute"
    statuses = [visitor.get("/v/123?lang=zgh") for _ in range(3)]
    assert [r.status_code for r in statuses] == [400, 400, 429]
    assert all("Set-Cookie" not in r.headers for r in statuses) and visitor.get_cookie("session") is None
    assert '<html lang="zgh"' in statuses[2].get_data(as_text=True)


def test_signed_in_people_keep_the_back_office_layout_on_its_errors(client, make_user, login):
    login(make_user("admin"))
    back_office = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert back_office.status_code == 404 and "Sign out" in back_office.get_data(as_text=True)
    public = client.get("/verify?page=0&lang=en")  # a public page knows nobody, even in error
    assert public.status_code == 404 and "Sign out" not in public.get_data(as_text=True)
    assert "Set-Cookie" not in public.headers


def test_answers_name_the_headers_that_chose_them(visitor, issue):
    """A cache in front must not hand one visitor's language or format to another: Vary names the headers
    an answer was negotiated on (the browser's languages, JSON or a page), and only those."""
    make, _ = issue
    path = _path(make()["verify_url"])

    def vary(url: str, **headers: str) -> set[str]:
        return {name.strip() for name in visitor.get(url, headers=headers).headers.get("Vary", "").split(",")}

    for url in ("/", "/privacy", "/verify", path):
        assert "Accept-Language" in vary(url, **{"Accept-Language": "ar"}), url
        assert "Accept-Language" not in vary(f"{url}?lang=ar", **{"Accept-Language": "ar"}), url  # ?lang= decided
    assert "Accept" in vary(path, Accept="text/html") and "Accept" in vary(path, Accept="application/json")
    assert "Accept" not in vary("/")  # always a page
    assert "Accept" in vary("/no-such-page")  # an error: a page or problem+json, as asked
