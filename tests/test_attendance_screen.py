"""The trainer's attendance screen and sessions list: nothing preset, an explicit "everyone present",
today's sessions first."""
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from common import clock
from common.clock import MOROCCO
from common.extensions import db
from skills.models import Attendance
from tests.helpers import table_counts

TODAY_9AM = datetime(2026, 11, 16, 9, 0, tzinfo=MOROCCO)


@pytest.fixture
def today(monkeypatch):
    """Monday 16 November 2026, 10:00 in Morocco."""
    now = (TODAY_9AM + timedelta(hours=1)).astimezone(clock.timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: now)
    monkeypatch.setattr(clock, "today", lambda: TODAY_9AM.date())


@pytest.fixture
def screen(client, login, make_user, make_trainee, make_cohort, make_session):
    trainer = make_user("trainer")
    people = [make_trainee(name=n) for n in ("Amine Tazi", "Hajar Lahlou", "Omar Naciri")]
    cohort = make_cohort(trainers=[trainer], trainees=people)
    session = make_session(cohort)
    login(trainer)
    return {"url": f"/cohorts/{cohort.code}/sessions/{session.id}", "people": people, "cohort": cohort,
            "trainer": trainer}


def test_no_row_is_preset_and_empty_rows_are_not_saved(client, screen):
    a, b, c = screen["people"]
    page = client.get(screen["url"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "checked" not in page.split('class="attendance"', 1)[1]  # nobody preset to present
    assert "3 trainees have no status yet" in page
    response = client.post(screen["url"], data={f"status-{a.id}": "late"}, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    rows = db.session.execute(sa.select(Attendance.trainee_id, Attendance.status)).all()
    assert rows == [(a.id, "late")]  # the two forgotten rows are not recorded present
    flashed = client.get(screen["url"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Attendance saved. 2 trainees have no status yet and were not saved." in flashed
    assert f'name="status-{a.id}" value="late" checked' in flashed


def test_saving_with_no_status_at_all_is_refused_clearly(client, screen):
    before = table_counts()
    response = client.post(screen["url"], data={}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Choose a status for at least one trainee: nothing was saved." in response.get_data(as_text=True)
    assert table_counts() == before


def test_mark_everyone_present_fills_the_empty_rows_without_saving(client, screen):
    a, b, c = screen["people"]
    before = table_counts()
    response = client.post(screen["url"], data={f"status-{b.id}": "absent", "fill": "present"},
                           headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and table_counts() == before  # shown, not saved
    assert "2 trainees marked present on screen: correct the exceptions, then save." in page
    assert f'name="status-{a.id}" value="present" checked' in page
    assert f'name="status-{b.id}" value="absent" checked' in page  # the exception stays
    assert f'name="status-{c.id}" value="present" checked' in page
    saved = client.post(screen["url"], data={f"status-{a.id}": "present", f"status-{b.id}": "absent",
                                             f"status-{c.id}": "present"})
    assert saved.status_code == 302
    assert dict(db.session.execute(sa.select(Attendance.trainee_id, Attendance.status)).all()) == {
        a.id: "present", b.id: "absent", c.id: "present"}


def test_the_save_bar_takes_its_own_space(client, screen):
    page = client.get(screen["url"]).get_data(as_text=True)
    assert 'class="save-bar"' in page and "sticky-save" not in page
    css = (Path(__file__).parent.parent / "static" / "kafaa.css").read_text()
    rule = css.split(".save-bar {", 1)[1].split("}", 1)[0]
    assert "position: sticky" in rule and "background" in rule and "fixed" not in rule


def test_sessions_list_today_first_then_upcoming_then_past(client, today, screen, make_session, login, admin):
    cohort = screen["cohort"]
    planned = {name: make_session(cohort, starts_at=TODAY_9AM + delta) for name, delta in (
        ("last week", timedelta(days=-7)), ("yesterday", timedelta(days=-1)), ("today", timedelta(0)),
        ("tomorrow", timedelta(days=1)), ("next week", timedelta(days=7)))}
    page = client.get(f"/cohorts/{cohort.code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    order = sorted(planned, key=lambda name: page.index(f"/sessions/{planned[name].id}\""))
    # The session made by the fixture (in October) is the oldest, so last.
    assert order == ["today", "tomorrow", "next week", "yesterday", "last week"]
    shortcut = page.split('class="today-shortcut"', 1)[1].split("</p>", 1)[0]
    assert f"/sessions/{planned['today'].id}\"" in shortcut and "Attendance at <bdi>" in shortcut
    listing = client.get("/cohorts", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Today&#39;s sessions" in listing or "Today's sessions" in listing
    assert f"/sessions/{planned['today'].id}\"" in listing and f"/sessions/{planned['tomorrow'].id}\"" not in listing


def test_deleting_a_session_asks_with_a_readable_date(client, today, screen, make_session):
    session = make_session(screen["cohort"], starts_at=TODAY_9AM)
    page = client.get(f"/cohorts/{screen['cohort'].code}/sessions/{session.id}/delete",
                      headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "<bdi>16/11/2026 09:00</bdi>" in page and "+00:00" not in page
