"""The governance dashboard's Pathway section in a real browser, in French and in Arabic (right to left):
the funnel's counts as governance may read them, axe-core on the page, a full-page screenshot."""
from __future__ import annotations

import pytest

from common import clock
from common.extensions import db
from governance.rules import Quarter
from tests.browser.test_browser_flows import (
    BROWSER_LOCALE,
    LANGS,
    assert_direction,
    expect,
    log_in,
)
from tests.helpers import create_certificate_row


@pytest.fixture
def pathway(live_url, admin, make_user, make_track, make_trainee):
    """Foundations (level 1) held by 12 people since last quarter; a sector track on it (level 2) earned
    this quarter by 7 of them, 3 through a recognised module."""
    from skills import operations

    foundations = make_track(code="FOND-IA")
    sector = make_track(code="IA-SANTE")
    operations.update_track(admin, sector, {"code": sector.code, "title": {"fr": "IA et santé", "ar": "الذكاء الاصطناعي والصحة",
                                                                           "en": "AI and health"},
                                            "modules": [m.code for m in sector.modules], "requires": [foundations.code]})
    db.session.commit()
    quarter = Quarter.of(clock.today())
    people = [make_trainee() for _ in range(12)]
    for person in people:
        create_certificate_row(person, foundations, quarter.previous().first_day)
    for index, person in enumerate(people[:7]):
        create_certificate_row(person, sector, quarter.first_day,
                               recognised=[sector.modules[0].code] if index < 3 else ())
    user = make_user("governance", "gouvernance@kafaa.ma")
    db.session.commit()
    return live_url, user.email, str(quarter)


@pytest.mark.parametrize("lang", LANGS)
def test_governance_sees_the_pathway(pathway, new_page, screenshot, axe, lang):
    url, email, quarter = pathway
    page = new_page(locale=BROWSER_LOCALE[lang])
    log_in(page, url, email)
    page.goto(f"{url}/dashboard?quarter={quarter}")
    assert_direction(page, lang)
    section = page.locator("section.pathway")
    expect(section.locator("h2 bdi")).to_have_text(quarter)
    rows = section.locator("tbody tr")
    expect(rows).to_have_count(2)
    # 12 trained, 12 hold level 1, 7 hold level 2 (5 do not) and moved up; 3 through recognition: "<5".
    expect(rows.nth(0).locator("td bdi")).to_have_text(["FOND-IA", "12"])
    expect(rows.nth(1).locator("td bdi")).to_have_text(["IA-SANTE", "7", "7"])
    expect(section.locator("p bdi")).to_have_text(["<5", "12"])
    axe(page, f"the dashboard with its pathway ({lang})")
    section.scroll_into_view_if_needed()
    screenshot(page, "pathway-dashboard", lang)
