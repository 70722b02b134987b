"""The programme dashboard in a real browser, as a governance reader, in French and Arabic: the quarter's
report downloads straight as a PDF and as an XLSX workbook (no ZIP, no job), the track filter names tracks by
their title in the page's language and filters by it, and on a 375 px phone the page fits and every control
fits a finger. axe-core finds nothing serious.

Screenshots: test-output/screenshots/<database>-dashboard-{1280px,375px}-<language>.png.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from common.extensions import db
from tests.browser.test_browser_flows import (  # noqa: F401 (world is a fixture)
    BROWSER_LOCALE,
    LANGS,
    assert_direction,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    expect,
    log_in,
    switch_language,
    world,
)


TITLE = {"fr": "Gouvernance des données publiques", "ar": "حكامة البيانات العمومية",
         "en": "Public data governance"}


@pytest.fixture
def reader(world, admin, make_user, make_module):
    """A governance reader, and a second track with a real title beside the world's."""
    from skills import operations

    operations.create_track(admin, {"code": "GOV-DATA", "modules": [make_module().code], "min_attendance": 0.8,
                                    "title": TITLE})
    user = make_user("governance", "gouvernance@kafaa.ma")
    db.session.commit()
    return user.email


def _download(page, link: str, tmp_path):
    with page.expect_download() as info:
        page.locator(link).click()
    download = info.value
    assert download.failure() is None
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    return saved


@pytest.mark.parametrize("lang", LANGS)
def test_the_dashboard_downloads_its_report_and_filters_by_track_name(world, reader, new_page, screenshot, axe,
                                                                     tmp_path, lang):
    page = new_page()
    log_in(page, world.url, reader)
    if lang != "fr":
        switch_language(page, lang)
    page.goto(f"{world.url}/dashboard")
    assert_direction(page, lang)
    axe(page, f"the dashboard ({lang})")
    screenshot(page, "dashboard-1280px", lang)

    # The track filter: titles in the page's language, codes only as the values sent.
    options = page.locator("select[name=track] option")
    texts = options.all_inner_texts()
    assert TITLE[lang] in texts and "GOV-DATA" not in " ".join(texts)
    page.select_option("select[name=track]", label=TITLE[lang])
    page.locator("form.filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]track=GOV-DATA(&|$)"))
    expect(page.locator("select[name=track] option:checked")).to_have_text(TITLE[lang])
    assert_direction(page, lang)
    axe(page, f"the dashboard filtered by track ({lang})")

    # The report, straight from the page: a PDF and a workbook of the quarter shown.
    quarter = parse_qs(urlsplit(page.url).query).get("quarter") or [
        page.locator("select[name=quarter] option:checked").get_attribute("value")]
    pdf = _download(page, ".report-downloads a[href$='.pdf']", tmp_path)
    assert pdf.suffix == ".pdf" and quarter[0] in pdf.name
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    xlsx = _download(page, ".report-downloads a[href$='.xlsx']", tmp_path)
    assert xlsx.suffix == ".xlsx" and quarter[0] in xlsx.name
    workbook = load_workbook(xlsx, read_only=True)
    assert len(workbook.sheetnames) >= 2
    workbook.close()


@pytest.mark.parametrize("lang", LANGS)
def test_the_dashboard_on_a_phone(world, reader, new_page, screenshot, axe, lang):
    page = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    log_in(page, world.url, reader)
    page.goto(f"{world.url}/dashboard")
    assert_direction(page, lang)
    assert_no_horizontal_scroll(page)
    assert_touch_targets(page)
    # A button's label that holds the quarter in a <bdi> keeps its spaces (flex items would drop them).
    quarter = page.locator("select[name=quarter] option:checked").get_attribute("value")
    produce = page.locator("form[action='/dashboard/report'] button").inner_text()
    assert "\n" not in produce and f" {quarter} (" in produce, produce
    headline = page.locator(".headline h2 bdi").bounding_box()
    assert headline["height"] < 80, headline  # "trained / target" on one line
    axe(page, f"the dashboard at 375 px ({lang})")
    screenshot(page, "dashboard-375px", lang)
