"""Importing trainees in a real browser, as an admin, in French and Arabic: the menu leads to the import page,
the sample workbook downloads with its French headings, a copy with one bad value is checked and refused
(the row, the column and the value in the file shown beside the error; nothing written), the corrected copy
is checked then imported, and the import's page lists the trainees it created, enrolled in the cohort chosen.
axe-core finds nothing serious on any of these pages.

Screenshots: test-output/screenshots/<database>-import-{refused,checked,imported}-<language>.png.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from common.extensions import db
from skills.models import Enrollment, Trainee
from tests.browser.test_browser_flows import (
    LANGS,
    assert_direction,
    expect,
    log_in,
    switch_language,
)


HEADINGS = ["Nom", "Nom en arabe", "Nom en tifinagh", "Adresse électronique", "Catégorie", "Secteur", "Région",
            "Genre", "Employeur"]
SECTOR = HEADINGS.index("Secteur") + 1  # openpyxl counts columns from 1
BAD_SECTOR = "Pêche"
HEALTH = {"fr": "Santé", "ar": "الصحة"}


def _trainees() -> list[tuple[str, str]]:
    db.session.rollback()  # a fresh transaction sees what the server committed
    rows = db.session.execute(sa.select(Trainee.name, Trainee.sector).order_by(Trainee.name)).all()
    db.session.rollback()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("lang", LANGS)
def test_admin_imports_the_sample_after_fixing_a_bad_row(live_url, admin, make_cohort, new_page, screenshot, axe,
                                                        tmp_path, lang):
    cohort = make_cohort().code
    db.session.commit()
    before = _trainees()
    page = new_page()
    log_in(page, live_url, admin.email)
    if lang != "fr":
        switch_language(page, lang)
    page.locator(".main-nav a[href='/imports']").click()
    expect(page).to_have_url(f"{live_url}/imports")
    assert_direction(page, lang)
    axe(page, f"the import page ({lang})")

    with page.expect_download() as download_info:
        page.locator(".samples a[href='/imports/sample.xlsx']").click()
    download = download_info.value
    assert download.failure() is None and download.suggested_filename == "kafaa-trainees-sample.xlsx"
    sample = tmp_path / download.suggested_filename
    download.save_as(sample)
    workbook = load_workbook(sample)
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == HEADINGS
    names = [sheet.cell(row=r, column=1).value for r in (2, 3)]

    def check(workbook, name: str) -> None:
        """Save the workbook as `name`, choose it and the cohort, and ask for the check."""
        workbook.save(tmp_path / name)
        page.set_input_files("input[name=file]", str(tmp_path / name))
        page.select_option("select[name=cohort]", cohort)
        page.locator("main form.card button[type=submit]").click()

    # One bad value on the spreadsheet's row 3: refused, and shown as it was typed.
    good_sector = sheet.cell(row=3, column=SECTOR).value
    sheet.cell(row=3, column=SECTOR).value = BAD_SECTOR
    check(workbook, "stagiaires.xlsx")
    report = page.locator("section.import-report")
    expect(report.locator("[role=alert]")).to_be_visible()
    rows = report.locator("tbody tr")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("Secteur")  # the heading as the file writes it
    expect(cells.nth(2)).to_have_text(BAD_SECTOR)
    expect(cells.nth(3)).to_contain_text(BAD_SECTOR)
    expect(cells.nth(3)).to_contain_text(HEALTH[lang])  # the sectors as the reader knows them, never codes
    expect(cells.nth(3)).not_to_contain_text("health")
    expect(page.locator("form[action='/imports/trainees/commit']")).to_have_count(0)  # nothing to confirm
    assert_direction(page, lang)
    axe(page, f"the refused file ({lang})")
    screenshot(page, "import-refused", lang)
    assert _trainees() == before  # nothing written

    # The corrected file: checked, then imported.
    sheet.cell(row=3, column=SECTOR).value = good_sector
    check(workbook, "stagiaires-corrige.xlsx")
    expect(report.locator("tbody tr")).to_have_count(0)
    expect(report).to_contain_text("stagiaires-corrige.xlsx")
    axe(page, f"the checked file ({lang})")
    screenshot(page, "import-checked", lang)
    assert _trainees() == before  # a check writes nothing
    page.locator("form[action='/imports/trainees/commit'] button[type=submit]").click()

    expect(page).to_have_url(re.compile(re.escape(live_url) + r"/imports/\d+$"))
    expect(page.locator(".flash-success")).to_be_visible()
    listed = page.locator("main table tbody tr")
    expect(listed).to_have_count(2)
    for name in names:
        expect(page.locator("main table tbody")).to_contain_text(name)
        expect(page.locator(f"main table a:has-text('{name}')")).to_have_attribute("href", re.compile(r"^/trainees/\d+$"))
    expect(page.locator(f"main a[href='/cohorts/{cohort}']")).to_be_visible()
    assert_direction(page, lang)
    axe(page, f"the imported trainees ({lang})")
    screenshot(page, "import-imported", lang)

    created = [t for t in _trainees() if t not in before]
    assert sorted(name for name, _ in created) == sorted(names)
    db.session.rollback()
    enrolled = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                                 .join(Trainee, Trainee.id == Enrollment.trainee_id).where(Trainee.name.in_(names)))
    db.session.rollback()
    assert enrolled == 2
