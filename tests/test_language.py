"""The pages in French and Arabic: no English left on them, mixed-direction fragments isolated, dates by
Babel, Arabic plurals, French typography, and small wording fixes."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import url_for

from common import clock
from common.clock import MOROCCO
from common.extensions import db

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=MOROCCO)
# What the libraries say in English when nobody translated them.
LIBRARY_ENGLISH = ("Please log in to access this page.", "This field is required.", "The CSRF token",
                   "Not a valid", "Invalid email address.")


def catalog(language: str):
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po)


def _english_fragments() -> list[str]:
    """English sentences of the catalog that French translates differently: the literal stretches of each
    msgid (between its placeholders) that are long enough to be unmistakable on a page."""
    fragments = set()
    for message in catalog("fr"):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue
            for chunk in re.split(r"%\(\w+\)[sd]|%%", msgid):
                chunk = " ".join(chunk.split()).strip(" .,:;·—-()")
                if len(chunk) >= 14 and " " in chunk:
                    fragments.add(chunk)
    return sorted(fragments)


class _Text(HTMLParser):
    """What a reader sees and hears: text, and the labels of images and controls."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title", "aria-label", "placeholder") and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def world(app, client, monkeypatch, make_user, make_trainee, make_cohort, make_session, admin):
    """A small programme on Monday 16 November 2026: a cohort with today's session open for check-in,
    earlier sessions with attendance, a trainee of unknown gender, a running job, every role."""
    from certificates.operations import issue_certificate
    from checkin.operations import open_checkin
    from jobs.models import Job
    from skills import operations

    monkeypatch.setattr(clock, "now", lambda: NOW.astimezone(timezone.utc))
    monkeypatch.setattr(clock, "today", lambda: NOW.date())
    trainer = make_user("trainer")
    people = [make_trainee(name=n, name_ar=a) for n, a in (("Amine Tazi", "أمين التازي"), ("Hajar Lahlou", "هاجر لحلو"))]
    people.append(make_trainee(name="Omar Naciri", name_ar="عمر الناصري", gender=None))
    cohort = make_cohort(trainers=[trainer], trainees=people, starts_on=NOW.date() - timedelta(days=40))
    past = [make_session(cohort, starts_at=NOW - timedelta(days=d)) for d in range(1, 9)]
    for session in past:
        operations.record_attendance(trainer, session, [{"trainee_id": people[0].id, "status": "present"},
                                                        {"trainee_id": people[1].id, "status": "absent"}])
    today = make_session(cohort, starts_at=NOW - timedelta(minutes=30))
    open_checkin(trainer, today)
    # A valid certificate: its admin page, and the sharing block of "My certificates".
    certificate, _ = issue_certificate(admin, people[0], cohort.track, known_eligible=True)
    job = Job(kind="certificates.issue_cohort", params={"cohort": cohort.code}, status="running",
              created_by_id=admin.id)
    db.session.add(job)
    db.session.commit()
    return {"admin": admin, "trainer": trainer, "trainee": make_user("trainee", trainee_id=people[0].id),
            "governance": make_user("governance"), "cohort": cohort, "today": today, "people": people,
            "job": job, "certificate": certificate}


def _pages(world) -> dict[str | None, list[str]]:
    code, session = world["cohort"].code, world["today"].id
    return {
        None: [url_for("accounts.login"), url_for("certificates.verify_form"), url_for("privacy.notice")],
        "trainee": [url_for("skills.my_progress"), url_for("certificates.mine"), url_for("checkin.typed"),
                    url_for("privacy.my_data")],
        "trainer": [url_for("skills.cohorts"), url_for("skills.cohort", code=code),
                    url_for("skills.attendance", code=code, session_id=session),
                    url_for("exchange.attendance_page", code=code, session_id=session),
                    url_for("checkin.projector", code=code, session_id=session),
                    url_for("checkin.room", code=code, session_id=session), url_for("skills.results", code=code),
                    url_for("skills.cohort", code=code, q="zzz-nobody")],
        "admin": [url_for("skills.trainees"), url_for("skills.trainees", q="zzz-nobody"), url_for("skills.modules"),
                  url_for("skills.tracks"), url_for("accounts.users"), url_for("accounts.outbox"),
                  url_for("governance.dashboard"), url_for("audit.trail"), url_for("exchange.imports_page"),
                  url_for("privacy.corrections"), url_for("jobs.show", job_id=world["job"].id),
                  url_for("skills.delete_session", code=code, session_id=session),
                  url_for("certificates_admin.index"), url_for("certificates_admin.index", q="zzz-nobody"),
                  url_for("certificates_admin.show", serial=world["certificate"].serial)],
        "governance": [url_for("governance.dashboard")],
    }


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_no_english_left_on_the_main_pages(client, login, world, language):
    fragments = _english_fragments() + list(LIBRARY_ENGLISH)
    assert len(fragments) > 200  # the catalog was read
    left = {}
    for role, urls in _pages(world).items():
        if role is None:
            client.post("/logout")
        else:
            login(world[role])
            world[role].locale = None
            db.session.commit()
        for url in urls:
            response = client.get(url, headers={"Accept-Language": language})
            if response.status_code == 302:  # signed out: where the page sends them (with its flashed message)
                response = client.get(response.headers["Location"], headers={"Accept-Language": language})
            assert response.status_code == 200, (role, url, response.status_code)
            html = response.get_data(as_text=True)
            assert f'lang="{language}"' in html
            text = visible_text(html)
            found = [f for f in fragments if f in text]
            if found:
                left[f"{role} {url}"] = found
            assert 'aria-invalid="None"' not in html, url
    client.post("/logout")
    signed_out = client.get("/checkin", headers={"Accept-Language": language})
    page = client.get(signed_out.headers["Location"], headers={"Accept-Language": language}).get_data(as_text=True)
    assert not [f for f in fragments if f in visible_text(page)]
    assert left == {}


def test_the_check_finds_english_when_there_is_some(client, login, world):
    """The test above can fail: an English page is caught."""
    login(world["trainer"])
    html = client.get(url_for("skills.cohorts"), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert [f for f in _english_fragments() if f in visible_text(html)]


def test_mixed_direction_fragments_are_isolated_in_arabic(client, login, world):
    login(world["governance"])
    page = client.get(url_for("governance.dashboard"), headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert re.search(r"<bdi>20\d\d-Q[1-4]</bdi>", page)
    login(world["trainee"])
    page = client.get(url_for("skills.my_progress"), headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert re.search(r'<bdi class="nowrap">\([^<]+ – [^<]+\)</bdi>', page)  # the date range stays whole


def test_arabic_plurals_follow_the_catalogs_six_forms(client, login, world):
    ar = catalog("ar")
    assert ar.num_plurals == 6 and "n % 100 >= 11" in ar.plural_expr
    for message in ar:
        if isinstance(message.id, tuple):
            assert len(message.string) == 6 and all(message.string), message.id
    login(world["trainee"])
    page = visible_text(client.get(url_for("skills.my_progress"), headers={"Accept-Language": "ar"})
                        .get_data(as_text=True))
    assert "من 8 حصص محتسبة" in page and "8 حصة" not in page  # 3 to 10 take the plural


# A mark closing a clause, after a word or placeholder, without the narrow no-break space before it.
UNSPACED_MARK = re.compile(r"(?<=[^\s(])[ \u00a0]?([:;?!]|%%)(?=[\s\"»)]|$)")


def test_french_typography(app):
    """A narrow no-break space (U+202F) before : ; ? ! and % in every French string, and in rates."""
    from flask_babel import refresh

    from common.templating import percent

    wrong = []
    for message in catalog("fr"):
        if not message.id:  # the header
            continue
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            wrong += [text for m in UNSPACED_MARK.finditer(text) if not text[:m.end()].endswith("Content-Type:")]
    assert wrong == []
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        refresh()  # Flask-Babel keeps the locale on the application context: decide it for this request
        assert percent(0.8) == "80\u202f%" and percent(0.805) == "80,5\u202f%"
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        refresh()
        assert percent(0.8) == "80%"


def test_dates_are_formatted_by_babel_on_confirmations(client, login, world):
    login(world["admin"])
    page = client.get(url_for("skills.delete_session", code=world["cohort"].code, session_id=world["today"].id),
                      headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", page) and "<bdi>" in page


def test_wording_fixes(client, login, world):
    login(world["admin"])
    job = client.get(url_for("jobs.show", job_id=world["job"].id), headers={"Accept-Language": "en"})
    assert "0 of 0" not in job.get_data(as_text=True) and "Getting ready…" in job.get_data(as_text=True)
    search = client.get(url_for("skills.trainees", q="zzz-nobody"), headers={"Accept-Language": "en"})
    assert "Nothing matches “<bdi>zzz-nobody</bdi>”. Try another search." in search.get_data(as_text=True)
    login(world["governance"])
    dashboard = client.get(url_for("governance.dashboard"), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    labels = re.findall(r'<meter[^>]*aria-label="([^"]*)"', dashboard)
    assert labels and "None" not in labels and "" not in labels


def test_fields_say_invalid_only_when_they_are(client, admin):
    page = client.get(url_for("accounts.login")).get_data(as_text=True)
    assert "aria-invalid" not in page
    wrong = client.post(url_for("accounts.login"), data={"email": admin.email, "password": "nope"})
    assert wrong.get_data(as_text=True).count('aria-invalid="true"') == 1
