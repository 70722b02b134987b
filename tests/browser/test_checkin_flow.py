"""Self check-in in a real browser, in French and in Arabic: the trainer's projector screen on a desktop, and
trainees checking in on a phone 375 px wide, once by typing the code and once by opening the QR code's URL.

The second phone "scans" the projector: the QR code as drawn on screen is photographed (an element screenshot)
and decoded with zxing, and the phone opens the URL it holds.

The live server runs on the real clock (no movable clock here), so the session starts five minutes before
the test and check-in is within its window. Codes rotate every 30 seconds: a code is read off the projector
right before it is used, and if it was refused (it rotated in between), read again and used once more.

Screenshots: test-output/screenshots/<database>-checkin-{projector-before,phone-typed,phone-done,
phone-scanned,projector-after}-<language>.png.
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from common.extensions import db
from tests.browser.test_browser_flows import (
    BROWSER_LOCALE,
    LANGS,
    Page,
    assert_direction,
    assert_no_horizontal_scroll,
    expect,
    log_in,
)
from tests.helpers import PASSWORD


POLL_WAIT_MS = 8_000  # the projector polls every 3 s
CODE = re.compile(r"^[0-9A-Z]{6}$")


@pytest.fixture
def room(live_url, make_user, make_trainee, make_cohort, make_session):
    """A session that began five minutes ago (real time), its trainer, and three enrolled trainees: two with
    accounts who will check in, one who will not."""
    trainer = make_user("trainer", "formateur.alaoui@kafaa.ma")
    typed = make_trainee(name="Salma Ouazzani Touhami", name_ar="سلمى الوزاني التهامي")
    scanned = make_trainee(name="Hamza Bennis", name_ar="حمزة بنيس")
    absent = make_trainee(name="Imane Chraibi", name_ar="إيمان الشرايبي")
    cohort = make_cohort(trainers=[trainer], trainees=[typed, scanned, absent])
    session = make_session(cohort, starts_at=datetime.now(timezone.utc) - timedelta(minutes=5), hours=3)
    room = SimpleNamespace(
        url=live_url, trainer=trainer.email, cohort=cohort.code, session=session.id,
        typed=typed.id, typed_email=make_user("trainee", trainee_id=typed.id).email,
        scanned=scanned.id, scanned_email=make_user("trainee", trainee_id=scanned.id).email, absent=absent.id)
    db.session.commit()  # no transaction left open while the server writes (SQLite would wait on it)
    return room


def shown_code(projector: Page) -> str:
    """The code on the projector right now (the page replaces it every 3 s without a reload)."""
    code = projector.locator("#checkin-code").inner_text().strip()
    assert CODE.match(code), code
    return code


# The QR code is an SVG: inline, or the picture of an <img> (drawn once loaded).
QR_IS_SVG = """() => {
  const qr = document.getElementById('checkin-qr');
  if (qr.tagName === 'IMG') return qr.complete && qr.naturalWidth > 0 && qr.src.startsWith('data:image/svg+xml');
  return qr.querySelector('svg') !== null;
}"""


def scan(projector: Page) -> tuple[str, str]:
    """What a phone's camera reads off the projector now: (the URL in the QR code, the code typed under it).
    Both are replaced every 3 s (the picture a moment after the text): read again if they disagree."""
    seen = []
    for _ in range(4):
        code = shown_code(projector)
        picture = Image.open(io.BytesIO(projector.locator("#checkin-qr").screenshot()))
        (found,) = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
        # The symbol fills the space given to it: a projected QR code must be big enough to scan from the
        # back of the room (an SVG without a viewBox is not scaled by CSS: it stays a 148 px stamp).
        corners = found.position
        side = max(corners.top_right.x, corners.bottom_right.x) - min(corners.top_left.x, corners.bottom_left.x)
        assert side >= 0.6 * picture.width and picture.width >= 300, (side, picture.size)
        if found.text.endswith(f"/{code}") and shown_code(projector) == code:
            return found.text, code
        seen.append((code, found.text))
        projector.wait_for_timeout(500)
    pytest.fail(f"the QR code never held the code shown under it: {seen}")


def outcome(phone: Page) -> str:
    """After a tap: "done" on the success page, "refused" when the form came back with an error."""
    expect(phone.locator("main .verdict-valid, main .flash-error")).to_be_visible()
    return "done" if phone.locator("main .verdict-valid").count() else "refused"


def assert_checkins(session_id: int, expected: dict[int, str]) -> None:
    from skills.models import Attendance

    db.session.rollback()  # a fresh transaction sees what the server committed
    rows = db.session.execute(sa.select(Attendance.trainee_id, Attendance.status, Attendance.source)
                              .where(Attendance.session_id == session_id)).all()
    db.session.rollback()
    assert {t: (s, src) for t, s, src in rows} == {t: (s, "checkin") for t, s in expected.items()}


@pytest.mark.parametrize("lang", LANGS)
def test_projector_and_phone_check_in(room, new_page, screenshot, lang):
    base = room.url
    projector_path = f"/cohorts/{room.cohort}/sessions/{room.session}/checkin"

    # The trainer opens check-in on the desktop that drives the projector.
    projector = new_page(locale=BROWSER_LOCALE[lang])
    log_in(projector, base, room.trainer)
    projector.goto(base + projector_path)
    assert_direction(projector, lang)
    expect(projector.locator(".projector")).to_have_count(0)
    expect(projector.locator("main form input[name=late_after_minutes]")).to_have_value("15")
    projector.locator("main form button[type=submit]").click()
    expect(projector).to_have_url(base + projector_path)  # POST, then redirected back to the screen
    expect(projector.locator("#checkin-qr")).to_be_visible()
    projector.wait_for_function(QR_IS_SVG)  # an SVG, inline or as an <img>, drawn
    expect(projector.locator(".projector-code .typed")).to_contain_text(f"{base}/checkin")
    scanned_url, code = scan(projector)  # the QR code holds the URL of the code printed under it
    assert scanned_url == f"{base}/checkin/{room.session}/{code}"
    expect(projector.locator("#checkin-count")).to_have_text("0")
    expect(projector.locator("#checkin-roster li")).to_have_count(3)
    expect(projector.locator("#checkin-roster li.out")).to_have_count(3)
    # From here on the screen must update itself: a reload would lose this marker.
    projector.evaluate("() => { window.kafaaNotReloaded = true; }")
    screenshot(projector, "checkin-projector-before", lang)

    # A trainee on a phone types the code at /checkin (the fallback written under the QR code).
    phone = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    log_in(phone, base, room.typed_email)
    phone.goto(f"{base}/checkin")
    assert_direction(phone, lang)
    expect(phone.locator("#code")).to_be_visible()
    assert_no_horizontal_scroll(phone)
    for attempt in range(2):
        phone.locator("#code").fill(shown_code(projector))  # read right before typing
        if attempt == 0:
            screenshot(phone, "checkin-phone-typed", lang)
        phone.locator("main form button[type=submit]").tap()
        if outcome(phone) == "done":
            break  # otherwise the code rotated between reading and tapping: read it again, once
    else:
        pytest.fail(f"the code typed twice was refused: {phone.locator('main .flash-error').inner_text()}")
    expect(phone.locator("main .verdict-valid h1")).to_be_visible()
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "checkin-phone-done", lang)
    assert_checkins(room.session, {room.typed: "present"})

    # The projector shows it without a reload (it polls every 3 s).
    expect(projector.locator("#checkin-count")).to_have_text("1", timeout=POLL_WAIT_MS)
    expect(projector.locator(f"#checkin-roster li[data-id='{room.typed}']")).to_have_class("in", timeout=POLL_WAIT_MS)
    expect(projector.locator(f"#checkin-roster li[data-id='{room.typed}'] .mark")).to_have_text("✓")
    expect(projector.locator("#checkin-roster li.out")).to_have_count(2)
    assert projector.evaluate("() => window.kafaaNotReloaded === true"), "the projector page was reloaded"

    # A second trainee's phone opens the QR code's URL while signed out, signs in, and taps once.
    second = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    for attempt in range(2):
        scan_url, code = scan(projector)
        assert scan_url == f"{base}/checkin/{room.session}/{code}"
        second.goto(scan_url)
        if attempt == 0:
            expect(second).to_have_url(re.compile(r"/login\?next="))
            second.fill("input[name=email]", room.scanned_email)
            second.fill("input[name=password]", PASSWORD)
            second.locator("main form button[type=submit]").click()
        # Back on the scanned page, which only asks (signed out, the scan came back with its ticket).
        expect(second).to_have_url(re.compile(re.escape(scan_url) + r"(\?ticket=[\w.-]+)?$"))
        expect(second.locator("#code")).to_have_count(0)  # nothing to type
        assert_direction(second, lang)
        assert_no_horizontal_scroll(second)
        if attempt == 0:
            screenshot(second, "checkin-phone-scanned", lang)
        second.locator("main form button[type=submit]").tap()
        if outcome(second) == "done":
            break
    else:
        pytest.fail(f"the scanned code was refused twice: {second.locator('main .flash-error').inner_text()}")
    assert_no_horizontal_scroll(second)
    assert_checkins(room.session, {room.typed: "present", room.scanned: "present"})

    expect(projector.locator("#checkin-count")).to_have_text("2", timeout=POLL_WAIT_MS)
    expect(projector.locator(f"#checkin-roster li[data-id='{room.scanned}']")).to_have_class("in",
                                                                                           timeout=POLL_WAIT_MS)
    expect(projector.locator(f"#checkin-roster li[data-id='{room.absent}']")).to_have_class("out")
    assert projector.evaluate("() => window.kafaaNotReloaded === true"), "the projector page was reloaded"
    screenshot(projector, "checkin-projector-after", lang)
