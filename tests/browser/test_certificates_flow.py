"""Certificates in a real browser, in French and Arabic: a trainee on a phone copies the verification link of
their certificate (the copy button says so aloud) and finds LinkedIn's Add to profile link; without
JavaScript the link stays plain text to select. An admin finds a certificate by its serial typed loosely and
lands on its page. axe-core finds no serious or critical violation on these pages.

Screenshots: test-output/screenshots/<database>-certificates-{sharing,admin-list,admin-page}-<language>.png.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_browser_flows import (  # noqa: F401 (world is a fixture)
    BROWSER_LOCALE,
    LANGS,
    assert_direction,
    assert_no_horizontal_scroll,
    expect,
    log_in,
    switch_language,
    world,
)


COPIED = {"fr": "Lien copié.", "ar": "تم نسخ الرابط."}


@pytest.mark.parametrize("lang", LANGS)
def test_trainee_copies_the_verification_link(world, new_page, screenshot, axe, lang):
    page = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=world.url)
    log_in(page, world.url, world.trainee)
    page.goto(f"{world.url}/me/certificates")
    assert_direction(page, lang)
    link = world.url + world.verify_path
    expect(page.locator(f"#link-{world.serial}")).to_have_text(link)
    button = page.locator(f"button[data-copy='link-{world.serial}']")
    expect(button).to_be_visible()
    assert button.bounding_box()["height"] >= 44  # a touch target on a phone
    button.click()
    expect(page.locator(f"#copied-{world.serial}")).to_have_text(COPIED[lang])
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    linkedin = page.locator("a.linkedin")
    expect(linkedin).to_be_visible()
    params = parse_qs(urlsplit(linkedin.get_attribute("href")).query)
    assert params["certUrl"] == [link] and params["certId"] == [world.serial]
    assert_no_horizontal_scroll(page)
    axe(page, f"My certificates ({lang})")
    screenshot(page, "certificates-sharing", lang)


def test_without_javascript_the_link_stays_to_select(world, browser):
    context = browser.new_context(java_script_enabled=False, locale="fr-MA")
    try:
        page = context.new_page()
        log_in(page, world.url, world.trainee)
        page.goto(f"{world.url}/me/certificates")
        expect(page.locator(f"#link-{world.serial}")).to_be_visible()
        expect(page.locator(f"button[data-copy='link-{world.serial}']")).to_be_hidden()
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_admin_finds_a_certificate_by_its_serial(world, new_page, screenshot, axe, lang):
    page = new_page()
    log_in(page, world.url, "admin@kafaa.ma")
    if lang != "fr":
        switch_language(page, lang)
    page.locator(".main-nav a[href='/admin/certificates']").click()
    expect(page).to_have_url(f"{world.url}/admin/certificates")
    assert_direction(page, lang)
    expect(page.locator(f"a[href='/admin/certificates/{world.serial}']")).to_be_visible()
    axe(page, f"the certificate list ({lang})")
    screenshot(page, "certificates-admin-list", lang)
    page.fill("input[name=q]", " " + world.serial.lower().replace("-", " ") + " ")
    page.locator("form.filters button[type=submit]").click()
    expect(page).to_have_url(f"{world.url}/admin/certificates/{world.serial}")
    expect(page.locator("ol.history li")).to_have_count(1)
    expect(page.locator(f"a[href='/certificates/{world.serial}/revoke?next=/admin/certificates/{world.serial}']")).to_be_visible()
    assert_direction(page, lang)
    axe(page, f"a certificate's page ({lang})")
    screenshot(page, "certificates-admin-page", lang)
