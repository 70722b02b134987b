"""A trainee scans the projector while signed out, takes two minutes to sign in, and is still checked in;
the projector shows the room only those who are in it. In French and in Arabic, on a phone and a desktop,
with screenshots and axe-core on every page the flow crosses.

The live server runs in this process, so the clock the tests move is the server's too: here it is the real
clock plus an offset, and "two minutes spent signing in" is the offset moving on (the code on screen has
changed four times by then).

Screenshots: test-output/screenshots/<database>-ticket-{signin,scanned,done,room}-<language>.png.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from common import clock
from common.extensions import db
from tests.browser.test_browser_flows import (
    BROWSER_LOCALE,
    LANGS,
    assert_no_horizontal_scroll,
    expect,
    log_in,
)
from tests.browser.test_checkin_flow import QR_IS_SVG, scan
from tests.helpers import PASSWORD


POLL_WAIT_MS = 8_000


@pytest.fixture
def offset(monkeypatch):
    """The application's clock: real time plus a shift the test moves forward."""
    shift = {"by": timedelta(0)}
    monkeypatch.setattr(clock, "now", lambda: datetime.now(timezone.utc) + shift["by"])
    return shift


@pytest.fixture
def room(live_url, offset, make_user, make_trainee, make_cohort, make_session):
    from checkin.operations import open_checkin

    trainer = make_user("trainer", "formatrice.idrissi@kafaa.ma")
    coming = make_trainee(name="Youssef El Amrani", name_ar="يوسف العمراني")
    marked = make_trainee(name="Nadia Berrada", name_ar="نادية برادة")
    waiting = make_trainee(name="Karim Fassi", name_ar="كريم الفاسي")
    cohort = make_cohort(trainers=[trainer], trainees=[coming, marked, waiting])
    session = make_session(cohort, starts_at=datetime.now(timezone.utc) - timedelta(minutes=5), hours=3)
    open_checkin(trainer, session)
    db.session.commit()
    return SimpleNamespace(url=live_url, trainer=trainer, cohort=cohort.code, session=session,
                           coming=coming, marked=marked, waiting=waiting,
                           coming_email=make_user("trainee", trainee_id=coming.id).email)


@pytest.mark.parametrize("lang", LANGS)
def test_a_scan_made_signed_out_survives_sign_in(room, offset, new_page, screenshot, axe, lang):
    base = room.url
    room_path = f"/cohorts/{room.cohort}/sessions/{room.session.id}/checkin/room"

    # Projector mode on the trainer's desktop: no header, no email, a full-screen button.
    projector = new_page(locale=BROWSER_LOCALE[lang])
    log_in(projector, base, room.trainer.email)
    projector.goto(base + room_path)
    expect(projector.locator("html")).to_have_attribute("lang", lang)
    expect(projector.locator(".topbar")).to_have_count(0)
    expect(projector.locator("body")).not_to_contain_text(room.trainer.email)
    expect(projector.locator("#room-fullscreen")).to_be_visible()
    projector.wait_for_function(QR_IS_SVG)
    expect(projector.locator("#checkin-count")).to_have_text("0")
    expect(projector.locator("#room-names li")).to_have_count(0)
    axe(projector, f"projector mode ({lang})")

    # The trainer marks Nadia absent by hand: the room sees neither a count nor her name for it.
    from skills import operations
    operations.record_attendance(room.trainer, room.session, [{"trainee_id": room.marked.id, "status": "absent"}])
    db.session.commit()

    # A phone, signed out, opens the QR code's link: sign in first, the scan is kept.
    scan_url, code = scan(projector)
    phone = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    phone.goto(scan_url)
    expect(phone).to_have_url(re.compile(r"/login\?next=.*ticket"))
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    expect(phone.locator("main .flash-info")).to_be_visible()
    expect(phone.locator("main")).not_to_contain_text("Please")
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "ticket-signin", lang)
    axe(phone, f"sign-in after a scan ({lang})")

    offset["by"] += timedelta(minutes=2)  # a slow sign-in: the code on screen has long changed
    expect(projector.locator("#checkin-code")).not_to_have_text(code, timeout=POLL_WAIT_MS)
    phone.fill("input[name=email]", room.coming_email)
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main form button[type=submit]").click()
    expect(phone).to_have_url(re.compile(rf"/checkin/{room.session.id}/{code}\?ticket="))
    expect(phone.locator("#code")).to_have_count(0)  # nothing to type: the scan is remembered
    expect(phone.locator("main .checkin-session")).to_contain_text(room.session.module.title(lang))
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "ticket-scanned", lang)
    axe(phone, f"the scanned page ({lang})")

    phone.locator("main form button[type=submit]").tap()
    expect(phone.locator("main .verdict-valid")).to_be_visible()
    expect(phone.locator("main .checkin-session")).to_contain_text(room.session.module.title(lang))
    expect(phone.locator("main a[href='/me/progress']")).to_be_visible()
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "ticket-done", lang)
    axe(phone, f"the confirmation ({lang})")

    from skills.models import Attendance
    db.session.rollback()
    rows = dict(db.session.execute(sa.select(Attendance.trainee_id, Attendance.status)
                                   .where(Attendance.session_id == room.session.id)).all())
    db.session.rollback()
    assert rows == {room.coming.id: "present", room.marked.id: "absent"}

    # The room sees one person in, by name (in the reader's script), and nobody else.
    expect(projector.locator("#checkin-count")).to_have_text("1", timeout=POLL_WAIT_MS)
    shown = room.coming.name_ar if lang == "ar" else room.coming.name
    expect(projector.locator("#room-names li")).to_have_text([shown], timeout=POLL_WAIT_MS)
    for hidden in (room.marked.name, room.marked.name_ar, room.waiting.name, room.waiting.name_ar):
        expect(projector.locator("body")).not_to_contain_text(hidden)
    expect(projector.locator(".room-count")).to_contain_text("1 / 3")
    screenshot(projector, "ticket-room", lang)
    axe(projector, f"projector mode after check-in ({lang})")
