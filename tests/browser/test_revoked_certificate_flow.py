"""A revoked certificate as its holder sees it, in French and Arabic: an admin revokes it from the
certificate's page (a revocation without a reason is refused first, nothing written), writes a message for
the holder, and lands back on that page; the holder, on a phone, finds on My certificates the date, that
message — never the internal reason — and the contact to write to. axe-core finds nothing serious.

Screenshots: test-output/screenshots/<database>-revoked-{admin,holder}-<language>.png.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from certificates.models import Certificate
from common.extensions import db
from common.templating import localdate
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


REASON = "Fraude signalée par l'employeur (dossier 2026-114)"
MESSAGE = {"fr": "Votre dossier est incomplet : merci d'envoyer l'attestation de présence.",
           "ar": "ملفك غير مكتمل: يرجى إرسال شهادة الحضور."}
REVOKED_ON = {"fr": "Révoqué le", "ar": "ألغيت في"}


def _revoked(serial: str) -> Certificate:
    db.session.rollback()  # a fresh transaction sees what the server committed
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == serial))
    db.session.rollback()
    return certificate


@pytest.mark.parametrize("lang", LANGS)
def test_the_holder_sees_the_date_the_message_and_whom_to_ask(app, world, new_page, screenshot, axe, lang):
    admin = new_page()
    log_in(admin, world.url, "admin@kafaa.ma")
    if lang != "fr":
        switch_language(admin, lang)
    here = f"/admin/certificates/{world.serial}"
    admin.goto(world.url + here)
    admin.locator(f"a[href='/certificates/{world.serial}/revoke?next={here}']").click()
    assert_direction(admin, lang)
    axe(admin, f"the revocation form ({lang})")

    # No reason: refused beside the field, in the page's language, and nothing revoked.
    admin.fill("textarea[name=message]", MESSAGE[lang])
    admin.locator("main form button.danger").click()
    expect(admin.locator("input[name=reason][aria-invalid=true]")).to_have_count(1)
    expect(admin.locator("main small.error")).to_be_visible()
    assert _revoked(world.serial).revoked_at is None
    expect(admin.locator("textarea[name=message]")).to_have_value(MESSAGE[lang])  # what was typed stays

    admin.fill("input[name=reason]", REASON)
    admin.locator("main form button.danger").click()
    expect(admin).to_have_url(world.url + here)  # back on the certificate's page it was started from
    expect(admin.locator(".flash-success")).to_contain_text(world.serial)
    expect(admin.locator("ol.history li")).to_have_count(2)
    expect(admin.locator(f"a[href='/certificates/{world.serial}/reinstate?next={here}']")).to_be_visible()
    assert_direction(admin, lang)
    axe(admin, f"a revoked certificate's page ({lang})")
    screenshot(admin, "revoked-admin", lang)
    certificate = _revoked(world.serial)
    assert certificate.revocation_reason == REASON and certificate.revocation_message == MESSAGE[lang]

    holder = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    log_in(holder, world.url, world.trainee)
    holder.goto(f"{world.url}/me/certificates")
    assert_direction(holder, lang)
    card = holder.locator(f"article.cert-revoked:has-text('{world.serial}')")
    notice = card.locator(".revoked-notice")
    with app.test_request_context(), force_locale(lang):
        day = localdate(certificate.revoked_at)
    expect(notice).to_contain_text(f"{REVOKED_ON[lang]} {day}")
    expect(notice).to_contain_text(MESSAGE[lang])
    contact = notice.locator(f"a[href='mailto:{app.config['CONTACT_EMAIL']}']")
    expect(contact).to_be_visible()
    expect(contact).to_have_text(app.config["CONTACT_EMAIL"])
    expect(card).not_to_contain_text("Fraude")  # the reason stays internal
    expect(card.locator("a.linkedin")).to_have_count(0)  # nothing to share
    assert_no_horizontal_scroll(holder)
    assert_touch_targets(holder)
    axe(holder, f"My certificates with a revoked one ({lang})")
    screenshot(holder, "revoked-holder", lang)
