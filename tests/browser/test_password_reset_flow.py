"""A forgotten password in a real browser, on a 375 px phone, in French and Arabic: from the sign-in page to
"forgot password", the answer that never tells whether the address has an account, the link read from the
outbox, a new password refused then set, and signing in with it; the account's session on another device
(a second browser, signed in before) is over. axe-core finds nothing serious; every control fits a finger.

Screenshots: test-output/screenshots/<database>-password-{forgot,sent,reset,refused}-<language>.png.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from accounts.models import OutboxMessage
from common.extensions import db
from tests.browser.test_browser_flows import (
    BROWSER_LOCALE,
    LANGS,
    assert_direction,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    expect,
    log_in,
)
from tests.helpers import PASSWORD


NEW_PASSWORD = "une phrase toute neuve"
# What the pages say, in the visitor's language (the catalogs' words, checked here as a person reads them).
SENT = {"fr": "Si un compte actif utilise cette adresse", "ar": "إذا كان حساب نشط يستخدم هذا العنوان"}


def _outbox_to(email: str) -> list[OutboxMessage]:
    db.session.rollback()  # a fresh transaction sees what the server committed
    mails = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
                                    .order_by(OutboxMessage.id)))
    db.session.rollback()
    return mails


def _check(page, axe, where: str) -> None:
    assert_no_horizontal_scroll(page)
    assert_touch_targets(page)
    axe(page, where)


@pytest.mark.parametrize("lang", LANGS)
def test_a_forgotten_password_is_reset_from_the_phone(live_url, make_user, new_page, screenshot, axe, lang):
    user = make_user("trainer", f"oublieuse.{lang}@kafaa.ma")
    email = user.email
    db.session.commit()  # no transaction left open while the server writes (SQLite would wait on it)

    # The same account, signed in before on another device (a laptop left at the office).
    laptop = new_page(locale=BROWSER_LOCALE[lang])
    log_in(laptop, live_url, email)
    laptop.goto(f"{live_url}/cohorts")
    expect(laptop).to_have_url(f"{live_url}/cohorts")

    phone = new_page(mobile=True, locale=BROWSER_LOCALE[lang])
    phone.goto(f"{live_url}/login")
    assert_direction(phone, lang)
    phone.locator("main a[href='/password/forgot']").click()
    expect(phone).to_have_url(f"{live_url}/password/forgot")
    assert_direction(phone, lang)
    _check(phone, axe, f"the forgot-password form at 375 px ({lang})")
    screenshot(phone, "password-forgot", lang)

    # An address nobody uses gets exactly the answer an account's own address gets, and no mail.
    phone.fill("input[name=email]", "personne@kafaa.ma")
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("main")).to_contain_text(SENT[lang])
    unknown_answer = phone.locator("main").inner_text()
    assert _outbox_to("personne@kafaa.ma") == []

    phone.goto(f"{live_url}/password/forgot")
    phone.fill("input[name=email]", " " + email.upper() + " ")  # typed as people type it
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("main")).to_contain_text(SENT[lang])
    assert phone.locator("main").inner_text() == unknown_answer
    assert_direction(phone, lang)
    _check(phone, axe, f"the answer that never tells at 375 px ({lang})")
    screenshot(phone, "password-sent", lang)

    mails = _outbox_to(email)
    assert len(mails) == 1
    link = re.search(r"https?://\S+/password/reset/\S+", mails[0].body).group(0)
    assert link.startswith(live_url + "/password/reset/")  # BASE_URL is the live server: the link leads here

    phone.goto(link)
    assert_direction(phone, lang)
    _check(phone, axe, f"the new-password form at 375 px ({lang})")
    screenshot(phone, "password-reset", lang)

    # Two passwords that differ are refused, in the page's language, and nothing changes.
    phone.fill("input[name=password]", NEW_PASSWORD)
    phone.fill("input[name=confirm]", NEW_PASSWORD + "!")
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("main input[aria-invalid=true]")).not_to_have_count(0)
    error = phone.locator("main small.error").first
    expect(error).to_be_visible()
    assert re.search(r"[\u0600-\u06ff]" if lang == "ar" else r"[a-zé]", error.inner_text())
    axe(phone, f"the new-password form refused ({lang})")
    screenshot(phone, "password-refused", lang)
    laptop.reload()
    expect(laptop).to_have_url(f"{live_url}/cohorts")  # not reset yet: the other session lives on

    phone.fill("input[name=password]", NEW_PASSWORD)
    phone.fill("input[name=confirm]", NEW_PASSWORD)
    phone.locator("main form button[type=submit]").click()
    expect(phone).to_have_url(f"{live_url}/login")
    expect(phone.locator(".flash-success")).to_be_visible()
    assert_direction(phone, lang)
    _check(phone, axe, f"the sign-in page after a reset ({lang})")

    # The old password no longer opens the account; the new one does.
    phone.fill("input[name=email]", email)
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main form button[type=submit]").click()
    expect(phone).to_have_url(re.compile(r"/login"))
    phone.fill("input[name=email]", email)
    phone.fill("input[name=password]", NEW_PASSWORD)
    phone.locator("main form button[type=submit]").click()
    expect(phone).to_have_url(f"{live_url}/cohorts")

    # The laptop's session ended with the reset; the link works once only.
    laptop.goto(f"{live_url}/cohorts")
    expect(laptop).to_have_url(re.compile(r"/login"))
    spent = new_page(locale=BROWSER_LOCALE[lang])
    response = spent.goto(link)
    assert response.status >= 400
    expect(spent.locator("input[name=password]")).to_have_count(0)
    axe(spent, f"a spent reset link ({lang})")
