"""The trainee's path in a real browser, in French and in Arabic: sign in, open My progress, see level 1 certified
and level 2 in progress (its prerequisite named, a recognised module marked), download the transcript (a PDF), and
open its public page from the URL in its QR code, without a cookie. axe-core on each page; at 375 px nothing scrolls
sideways. Screenshots in test-output/screenshots/.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from common.extensions import db
from tests.browser.test_browser_flows import (
    BROWSER_LOCALE,
    LANGS,
    assert_direction,
    assert_no_horizontal_scroll,
    assert_public_direction,
    expect,
    log_in,
    post_json,
)
from tests.helpers import PASSWORD


@pytest.fixture
def path(live_url, admin, make_user, make_trainee, make_cohort, make_session):
    """Foundations (level 1) and a sector track requiring them (level 2). The trainee completed the foundations
    and holds their certificate (issued through the live server, so its links lead there), is enrolled at level 2
    and has one of its modules recognised."""
    from skills import operations

    modules = [("FND-101", "Fondements du raisonnement", "أسس الاستدلال"), ("FND-102", "Logique et preuves", "المنطق والبراهين"),
               ("SEC-201", "Sécurité des systèmes d'IA dans l'administration", "أمن أنظمة الذكاء الاصطناعي في الإدارة"),
               ("SEC-202", "Projet appliqué", "مشروع تطبيقي")]
    for code, fr, ar in modules:
        operations.create_module(admin, {"code": code, "hours": 6, "title": {"fr": fr, "ar": ar, "en": fr}})
    foundations = operations.create_track(admin, {
        "code": "RAI-FOUND", "modules": ["FND-101", "FND-102"], "validity_months": 24, "title": {
            "fr": "Raisonnement IA — fondamentaux", "ar": "الاستدلال بالذكاء الاصطناعي — الأساسيات",
            "en": "AI reasoning — foundations", "zgh": "ⵉⵙⵓⵔⵙ ⵏ ⵜⵎⵓⵙⵏⵉ"}})
    sector = operations.create_track(admin, {
        "code": "RAI-PUBLIC", "modules": ["SEC-201", "SEC-202"], "requires": ["RAI-FOUND"], "title": {
            "fr": "IA raisonnée pour l'administration", "ar": "الذكاء الاصطناعي المنطقي للإدارة",
            "en": "Reasoned AI for government"}})
    db.session.commit()
    trainee = make_trainee(name="Fatima Zahra El Idrissi", name_ar="فاطمة الزهراء الإدريسي")
    first = make_cohort(track=foundations, trainees=[trainee])
    for code in ("FND-101", "FND-102"):
        session = make_session(first, module=code)
        operations.record_attendance(admin, session, [{"trainee_id": trainee.id, "status": "present"}])
    operations.record_results(admin, first, [{"trainee_id": trainee.id, "module": code, "passed": True, "score": 90}
                                             for code in ("FND-101", "FND-102")])
    make_cohort(track=sector, trainees=[trainee])
    operations.recognise_module(admin, trainee, {"module": "SEC-201", "reason": "Certificat ENSIAS",
                                                 "evidence": "Promotion 2024"})
    db.session.commit()
    user = make_user("trainee", trainee_id=trainee.id)
    world = SimpleNamespace(url=live_url, trainee=user.email)
    trainee_id, admin_email = trainee.id, admin.email
    db.session.commit()  # no transaction left open while the server writes

    token = post_json(live_url, "/api/v1/tokens", {"email": admin_email, "password": PASSWORD})["token"]
    post_json(live_url, "/api/v1/certificates", {"trainee_id": trainee_id, "track": "RAI-FOUND"}, token)
    return world


STEP = "section.pathway li.step[data-track='{}']"


def qr_url(pdf: bytes) -> str:
    """The URL the transcript's QR code carries, read back from the rendered first page."""
    import pypdfium2 as pdfium
    import zxingcpp

    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil()
    (code,) = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return code.text


@pytest.mark.parametrize("lang", LANGS)
def test_trainee_follows_the_pathway_and_checks_the_transcript(path, new_page, screenshot, axe, lang):
    page = new_page(locale=BROWSER_LOCALE[lang])  # the language from the browser's Accept-Language
    log_in(page, path.url, path.trainee)
    expect(page).to_have_url(f"{path.url}/me/progress")
    assert_direction(page, lang)

    steps = page.locator("section.pathway li.step")
    expect(steps).to_have_count(2)
    assert [steps.nth(i).get_attribute("data-track") for i in range(2)] == ["RAI-FOUND", "RAI-PUBLIC"]
    level_1, level_2 = page.locator(STEP.format("RAI-FOUND")), page.locator(STEP.format("RAI-PUBLIC"))
    expect(level_1).to_have_attribute("data-state", "certified")
    expect(level_1.locator(".level")).to_have_text({"fr": "Niveau 1", "ar": "المستوى 1"}[lang])
    expect(level_1.locator(".badge")).to_have_text({"fr": "Certifié", "ar": "حاصل على الشهادة"}[lang])
    expect(level_2).to_have_attribute("data-state", "in_progress")
    expect(level_2.locator(".level")).to_have_text({"fr": "Niveau 2", "ar": "المستوى 2"}[lang])
    # What comes next names level 2; its card names the prerequisite it builds on, held (✓).
    expect(page.locator(".next-steps li[data-track='RAI-PUBLIC']")).to_be_visible()
    card = page.locator("section.progress", has_text={
        "fr": "IA raisonnée pour l'administration", "ar": "الذكاء الاصطناعي المنطقي للإدارة"}[lang])
    expect(card.locator("ul.prerequisites li.ok")).to_contain_text("RAI-FOUND")
    # The recognised module is marked as such.
    expect(card.locator("li", has_text="SEC-201").locator(".badge")).to_have_text(
        {"fr": "acquis antérieurs reconnus", "ar": "مكتسبات سابقة معترف بها"}[lang])
    axe(page, f"my progress with the pathway ({lang})")
    screenshot(page, "pathway", lang)

    with page.expect_download() as download_info:
        page.locator("form[action='/me/transcript'] button").click()
    download = download_info.value
    assert download.failure() is None and download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as file:
        pdf = file.read()
    assert pdf.startswith(b"%PDF")
    url = qr_url(pdf)
    assert re.fullmatch(re.escape(path.url) + r"/t/KT-\d{4}-\d{6}/[A-Z0-9]{4}-[A-Z0-9]{4}", url), url

    visitor = new_page(locale=BROWSER_LOCALE[lang])  # another browser: no session
    response = visitor.goto(url)
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    assert visitor.context.cookies() == []
    assert_public_direction(visitor, lang)
    main = visitor.locator("main")
    expect(main).to_contain_text({"fr": "Fatima Zahra El Idrissi", "ar": "فاطمة الزهراء الإدريسي"}[lang])
    expect(main).to_contain_text("SEC-201")
    expect(main).to_contain_text("FND-102")
    axe(visitor, f"the transcript's public page ({lang})")
    screenshot(visitor, "transcript-public", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_pathway_fits_a_phone(path, new_page, screenshot, axe, lang):
    page = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    log_in(page, path.url, path.trainee)
    expect(page.locator("section.pathway li.step")).to_have_count(2)
    assert_direction(page, lang)
    assert_no_horizontal_scroll(page)
    axe(page, f"my progress at 375 px ({lang})")
    screenshot(page, "pathway-375", lang)
