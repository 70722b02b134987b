"""The real flows in a real browser, in French and in Arabic (right to left), on desktop and at 375 px.

A trainer takes attendance and sees it saved; a trainee downloads their certificate; a visitor opens a
verification URL. Each flow leaves a full-page screenshot in test-output/screenshots/.
"""
from __future__ import annotations

import json
import re
import urllib.request
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from common.extensions import db
from tests.helpers import PASSWORD

sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright module: "
                               "`make dev-setup` installs it from requirements-dev.txt")
Page, expect = sync_api.Page, sync_api.expect

LANGS = ["fr", "ar"]
BROWSER_LOCALE = {"fr": "fr-MA", "ar": "ar-MA"}
MODULES = [
    ("RAI-101", "Raisonnement probabiliste et décision publique dans l'incertitude",
     "الاستدلال الاحتمالي واتخاذ القرار العمومي في ظل عدم اليقين"),
    ("RAI-102", "Évaluation, biais et gouvernance des systèmes d'intelligence artificielle",
     "تقييم أنظمة الذكاء الاصطناعي وتحيزاتها وحكامتها"),
]


@pytest.fixture
def world(live_url, admin, make_user, make_track, make_trainee, make_cohort, make_session):
    """A cohort with a trainer, three trainees and a session to take attendance at; one trainee already
    holds a certificate, issued through the live server's API (so its QR code and verification link lead
    to the live server, and pyHanko's asyncio.run happens on the server's thread: Playwright's sync API
    keeps an event loop running on the test's own thread)."""
    from skills import operations

    trainer = make_user("trainer", "formatrice.benjelloun@kafaa.ma")
    for code, fr, ar in MODULES:  # real titles are long: they must wrap, not widen the page on a phone
        operations.create_module(admin, {"code": code, "hours": 6, "title": {"fr": fr, "ar": ar, "en": fr}})
    db.session.commit()
    track = make_track(modules=[code for code, _, _ in MODULES])
    holder = make_trainee(name="Fatima Zahra El Idrissi", name_ar="فاطمة الزهراء الإدريسي", name_tfng="ⴼⴰⵟⵉⵎⴰ")
    others = [make_trainee(name="Youssef Benali", name_ar="يوسف بنعلي"),
              make_trainee(name="Khadija Amrani-Bouzoubaa", name_ar="خديجة العمراني بوزوبع")]
    cohort = make_cohort(track=track, trainers=[trainer], trainees=[holder, *others])
    past = make_session(cohort)
    upcoming = make_session(cohort, module=track.modules[1].code)
    operations.record_attendance(admin, past, [{"trainee_id": holder.id, "status": "present"}])
    operations.record_results(admin, cohort, [{"trainee_id": holder.id, "module": m.code, "passed": True, "score": 90}
                                              for m in track.modules])
    db.session.commit()
    holder_user = make_user("trainee", trainee_id=holder.id)
    world = SimpleNamespace(
        url=live_url, trainer=trainer.email, trainee=holder_user.email, cohort=cohort.code, session=upcoming.id,
        trainees=[holder.id] + [t.id for t in others])
    trainee_id, track_code, admin_email = holder.id, track.code, admin.email
    db.session.commit()  # no transaction left open while the server writes (SQLite would wait on it)

    token = post_json(live_url, "/api/v1/tokens", {"email": admin_email, "password": PASSWORD})["token"]
    issued = post_json(live_url, "/api/v1/certificates", {"trainee_id": trainee_id, "track": track_code}, token)
    assert issued["verify_url"].startswith(live_url + "/v/"), issued["verify_url"]
    world.serial, world.verify_path = issued["serial"], urlsplit(issued["verify_url"]).path
    return world


def post_json(base: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
        return json.loads(response.read())


# --- helpers -------------------------------------------------------------------------------------------

def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def switch_language(page: Page, lang: str) -> None:
    """A real click on the header's language switcher (a form posted to /language)."""
    page.locator(f".lang-switch button[value={lang}]").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator(f".lang-switch button[value={lang}]")).to_have_attribute("aria-current", "true")


def assert_direction(page: Page, lang: str) -> None:
    """The page is in the language and runs in its direction; in Arabic the layout is mirrored."""
    rtl = lang == "ar"
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")
    assert page.evaluate("getComputedStyle(document.body).direction") == ("rtl" if rtl else "ltr")
    # The brand starts the header: at the left in French, at the right in Arabic.
    brand = page.locator(".topbar .brand").bounding_box()
    session_nav = page.locator(".topbar .session-nav").bounding_box()
    if abs(brand["y"] - session_nav["y"]) < brand["height"]:  # one row (desktop)
        assert (brand["x"] > session_nav["x"]) if rtl else (brand["x"] < session_nav["x"]), (brand, session_nav)
    else:  # the header wrapped (phone): the brand hugs the starting edge
        width = page.evaluate("document.documentElement.clientWidth")
        assert (brand["x"] + brand["width"] > width - 40) if rtl else (brand["x"] < 40), (brand, width)
    links = page.locator(".main-nav a")
    first, last = links.first.bounding_box(), links.last.bounding_box()
    if links.count() >= 2 and abs(first["y"] - last["y"]) < first["height"]:  # on one line: the first leads
        assert (first["x"] > last["x"]) if rtl else (first["x"] < last["x"]), (first, last)


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const offenders = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                   (el.classList.length ? '.' + [...el.classList].join('.') : '');
      offenders.push(`${name} [${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, clientWidth: width,
          offenders: offenders.slice(0, 12)};
}"""


def assert_no_horizontal_scroll(page: Page) -> None:
    measured = page.evaluate(OVERFLOW)
    assert measured["clientWidth"] == 375, measured
    assert measured["scrollWidth"] <= measured["innerWidth"] and measured["scrollWidth"] <= 375, (
        f"horizontal scrolling at 375 px on {page.url}: {measured}")


# Every control a finger must hit, at least 44 × 44 CSS px on a phone (WCAG 2.5.5). Links inside a sentence are
# exempt, as WCAG exempts inline targets; radio buttons and checkboxes are hit through their label.
TOUCH_TARGETS = """() => {
  const small = [];
  for (const el of document.querySelectorAll('a[href], button, select, input:not([type=hidden]), label')) {
    if (el.closest('p, li.inline, dd, td.text') && el.tagName === 'A') continue;
    if ((el.type === 'radio' || el.type === 'checkbox') && el.closest('label')) continue;
    if (el.tagName === 'LABEL' && !el.querySelector('input[type=radio], input[type=checkbox]')) continue;
    const r = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (r.width === 0 || style.visibility === 'hidden') continue;
    const text = el.tagName === 'INPUT' || el.tagName === 'SELECT';
    if (r.height < 44 || (!text && r.width < 44)) {
      small.push(`${el.tagName.toLowerCase()}${el.className ? '.' + el.className.split(' ').join('.') : ''} `
                 + `"${(el.textContent || el.value || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""


def assert_touch_targets(page: Page) -> None:
    small = page.evaluate(TOUCH_TARGETS)
    assert not small, f"touch targets under 44 px on {page.url}: {small[:12]}"


def assert_attendance_rows(session_id: int, expected: dict[int, str]) -> None:
    from skills.models import Attendance

    db.session.rollback()  # a fresh transaction sees what the server committed
    rows = db.session.execute(sa.select(Attendance.trainee_id, Attendance.status)
                              .where(Attendance.session_id == session_id)).all()
    db.session.rollback()
    assert dict(rows) == expected


# --- the flows -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_trainer_takes_attendance_and_sees_it_saved(world, new_page, screenshot, axe, lang):
    page = new_page()
    page.goto(f"{world.url}/login?lang={lang}")
    axe(page, f"the sign-in page ({lang})")
    log_in(page, world.url, world.trainer)
    expect(page).to_have_url(f"{world.url}/cohorts")
    if lang != "fr":
        switch_language(page, lang)
    assert_direction(page, lang)
    axe(page, f"the cohort list ({lang})")

    page.locator(f"main a[href='/cohorts/{world.cohort}']").click()
    expect(page).to_have_url(f"{world.url}/cohorts/{world.cohort}")
    axe(page, f"the cohort page ({lang})")
    page.locator(f"a[href='/cohorts/{world.cohort}/sessions/{world.session}']").click()
    expect(page).to_have_url(f"{world.url}/cohorts/{world.cohort}/sessions/{world.session}")
    assert_direction(page, lang)
    expect(page.locator(".roster-row")).to_have_count(3)
    axe(page, f"the attendance screen ({lang})")

    holder, second, third = world.trainees
    chosen = {holder: "late", second: "absent", third: "excused"}
    for trainee_id, status in chosen.items():
        expect(page.locator(f"input[name='status-{trainee_id}']:checked")).to_have_count(0)  # nothing preset
        page.locator(f"label.status:has(input[name='status-{trainee_id}'][value={status}])").click()
        expect(page.locator(f"input[name='status-{trainee_id}'][value={status}]")).to_be_checked()
    page.locator(".save-bar button.primary").click()

    expect(page.locator(".flash-success")).to_be_visible()
    expect(page).to_have_url(f"{world.url}/cohorts/{world.cohort}/sessions/{world.session}")
    axe(page, f"the attendance screen once saved ({lang})")
    screenshot(page, "attendance", lang)
    assert_attendance_rows(world.session, chosen)

    page.reload()
    expect(page.locator(".flash")).to_have_count(0)
    for trainee_id, status in chosen.items():
        expect(page.locator(f"input[name='status-{trainee_id}'][value={status}]")).to_be_checked()
    assert_direction(page, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_trainee_downloads_the_certificate(world, new_page, screenshot, axe, lang):
    page = new_page(locale=BROWSER_LOCALE[lang])  # here the language comes from the browser's Accept-Language
    log_in(page, world.url, world.trainee)
    page.locator(".main-nav a[href='/me/certificates']").click()
    expect(page).to_have_url(f"{world.url}/me/certificates")
    assert_direction(page, lang)
    expect(page.locator("article.cert")).to_have_count(1)
    expect(page.locator("article.cert")).to_contain_text(world.serial)
    axe(page, f"my certificates ({lang})")

    with page.expect_download() as download_info:
        page.locator(f"article.cert a[href='/certificates/{world.serial}.pdf']").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"{world.serial}.pdf"
    with open(download.path(), "rb") as file:
        pdf = file.read()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    screenshot(page, "certificates", lang)


def switch_public_language(page: Page, lang: str) -> None:
    """The public pages switch language by a link (?lang=): no form, no session, no cookie."""
    page.locator(f".public-top .langs a[lang={lang}]").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator(f".public-top .langs a[lang={lang}]")).to_have_attribute("aria-current", "true")


def assert_public_direction(page: Page, lang: str) -> None:
    """A public page is in the language and its direction; the programme's mark starts the header."""
    rtl = lang == "ar"
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert page.evaluate("getComputedStyle(document.body).direction") == ("rtl" if rtl else "ltr")
    mark, langs = page.locator(".public-top .mark").bounding_box(), page.locator(".public-top .langs").bounding_box()
    if abs(mark["y"] - langs["y"]) < mark["height"]:
        assert (mark["x"] > langs["x"]) if rtl else (mark["x"] < langs["x"]), (mark, langs)


@pytest.mark.parametrize("lang", LANGS)
def test_visitor_opens_the_verification_url(world, new_page, screenshot, axe, lang):
    page = new_page()
    response = page.goto(world.url + world.verify_path)
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    if lang != "fr":
        switch_public_language(page, lang)
        expect(page).to_have_url(re.compile(re.escape(world.url + world.verify_path) + r"\?lang=" + lang))
    assert_public_direction(page, lang)
    assert page.context.cookies() == []  # the public page set no cookie

    expect(page.locator(".verdict.verdict-valid")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Fatima Zahra El Idrissi")
    expect(facts).to_contain_text("فاطمة الزهراء الإدريسي")
    expect(facts).to_contain_text(world.serial)
    # The facts' labels sit on the reading side: left of the values in French, right of them in Arabic.
    label, value = facts.locator("dt").first.bounding_box(), facts.locator("dd").first.bounding_box()
    assert (label["x"] > value["x"]) if lang == "ar" else (label["x"] < value["x"]), (label, value)
    axe(page, f"the verification page ({lang})")
    screenshot(page, "verify", lang)
    page.goto(f"{world.url}/?lang={lang}")
    axe(page, f"the landing page ({lang})")
    page.goto(f"{world.url}/verify?lang={lang}")
    axe(page, f"the check form ({lang})")


@pytest.mark.parametrize("lang", LANGS)
def test_no_horizontal_scrolling_at_375px(world, new_page, screenshot, axe, lang):
    """A phone 375 px wide: the attendance screen and the verification page fit without scrolling sideways,
    every control is big enough for a finger, and axe-core finds nothing serious."""
    trainer = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    log_in(trainer, world.url, world.trainer)
    trainer.goto(f"{world.url}/cohorts/{world.cohort}/sessions/{world.session}")
    expect(trainer.locator(".roster-row")).to_have_count(3)
    assert_direction(trainer, lang)
    assert_no_horizontal_scroll(trainer)
    assert_touch_targets(trainer)
    axe(trainer, f"the attendance screen at 375 px ({lang})")
    screenshot(trainer, "attendance-375px", lang)

    visitor = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    visitor.goto(world.url + world.verify_path)
    expect(visitor.locator(".verdict.verdict-valid")).to_be_visible()
    expect(visitor.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    assert_no_horizontal_scroll(visitor)
    assert_touch_targets(visitor)
    screenshot(visitor, "verify-375px", lang)
    visitor.goto(f"{world.url}/?lang={lang}")
    assert_no_horizontal_scroll(visitor)
    assert_touch_targets(visitor)
    axe(visitor, f"the landing page at 375 px ({lang})")


@pytest.mark.parametrize("mobile", [False, True], ids=["1280px", "375px"])
def test_amazigh_public_pages_in_tifinagh(world, new_page, screenshot, axe, mobile):
    """The landing, error and verification pages in Amazigh: Tifinagh drawn with the font the app ships."""
    page = new_page(mobile=mobile)
    for path, name in (("/", "landing"), ("/no-such-page", "error"), (world.verify_path, "verify")):
        page.goto(f"{world.url}{path}?lang=zgh")
        expect(page.locator("html")).to_have_attribute("lang", "zgh")
        assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"
        page.evaluate("document.fonts.ready")
        assert page.evaluate("document.fonts.check('16px \\'Kafaa Tifinagh\\'', 'ⴰⵙⵖⵉⵡⵙ')")
        assert page.evaluate("[...document.fonts].some(f => f.family.includes('Kafaa Tifinagh') && f.status === 'loaded')")
        if mobile:
            assert_no_horizontal_scroll(page)
            assert_touch_targets(page)
        axe(page, f"{name} in Tamazight")
        screenshot(page, f"{name}-{'375px' if mobile else '1280px'}", "zgh")
    expect(page.locator(".verdict.verdict-valid")).to_be_visible()
    assert page.context.cookies() == []
