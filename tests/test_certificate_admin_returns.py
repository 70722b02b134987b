"""An admin's way between a trainee's page and a certificate's page: the serials on the trainee's page open the
certificate's admin page (for admins only), and revoke, reinstate and reissue started from that page come back
to it; started elsewhere, or given a `next` that leaves the site, they land on the trainee's page as before."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from certificates.models import Certificate
from certificates.operations import issue_certificate
from common.extensions import db
from skills import operations as skills

EN = {"Accept-Language": "en"}


@pytest.fixture
def held(admin, make_track, make_trainee, make_cohort):
    """A trainee holding a certificate of a track with no attendance minimum."""
    track = make_track(min_attendance=0)
    trainee = make_trainee(name="Salma Berrada", name_ar="سلمى برادة")
    cohort = make_cohort(track=track, trainees=[trainee])
    skills.record_results(admin, cohort, [{"trainee_id": trainee.id, "module": m.code, "passed": True}
                                          for m in track.modules])
    certificate = issue_certificate(admin, trainee, track)[0]
    db.session.commit()
    return certificate


def _current(trainee_id: int) -> Certificate:
    db.session.expire_all()
    return db.session.scalar(sa.select(Certificate).where(Certificate.trainee_id == trainee_id,
                                                          Certificate.superseded_by_id.is_(None)))


def test_serials_on_the_trainee_page_open_the_certificate_for_admins_only(client, login, admin, make_user, held):
    login(admin)
    page = client.get(f"/trainees/{held.trainee_id}", headers=EN).get_data(as_text=True)
    assert f'<a href="/admin/certificates/{held.serial}">{held.serial}</a>' in page
    trainee = make_user("trainee", trainee_id=held.trainee_id)
    login(trainee)
    own = client.get(f"/trainees/{held.trainee_id}", headers=EN)
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert held.serial in html and "/admin/certificates" not in html  # a page they may not open


def test_revoke_reinstate_and_reissue_from_the_certificate_page_come_back_to_it(client, login, admin, held):
    login(admin)
    serial, here = held.serial, f"/admin/certificates/{held.serial}"
    form = client.get(f"/certificates/{serial}/revoke?next={here}", headers=EN).get_data(as_text=True)
    assert re.search(rf'<a class="button" href="{here}">Cancel</a>', form)  # Cancel goes back there too
    done = client.post(f"/certificates/{serial}/revoke?next={here}", data={"reason": "Dossier incomplet"}, headers=EN)
    assert done.status_code == 302 and done.headers["Location"] == here
    shown = re.sub(r"<[^>]+>", "", client.get(here, headers=EN).get_data(as_text=True))
    assert f"Certificate {serial} is revoked." in shown  # the flash, shown there

    reinstate = f"/certificates/{serial}/reinstate?next={here}"
    assert f'href="{here}">Cancel' in client.get(reinstate, headers=EN).get_data(as_text=True)
    done = client.post(reinstate, data={"reason": "Pièce retrouvée", "confirm": "y"})
    assert done.status_code == 302 and done.headers["Location"] == here
    assert _current(held.trainee_id).revoked_at is None

    reissue = f"/certificates/{serial}/reissue?next={here}"
    assert f'href="{here}">Cancel' in client.get(reissue, headers=EN).get_data(as_text=True)
    done = client.post(reissue)
    assert done.status_code == 302 and done.headers["Location"] == here
    assert _current(held.trainee_id).serial != serial


def test_a_refused_act_from_the_certificate_page_comes_back_to_it_too(client, login, admin, held):
    """Reinstating a certificate that is not revoked is refused: the message is shown where the admin was."""
    login(admin)
    here = f"/admin/certificates/{held.serial}"
    done = client.post(f"/certificates/{held.serial}/reinstate?next={here}", data={"reason": "Par erreur", "confirm": "y"})
    assert done.status_code == 302 and done.headers["Location"] == here
    assert _current(held.trainee_id).serial == held.serial and _current(held.trainee_id).revoked_at is None


@pytest.mark.parametrize("next_", [None, "https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)"])
def test_without_a_local_next_the_acts_land_on_the_trainee_page(client, login, admin, held, next_):
    login(admin)
    query = "" if next_ is None else f"?next={next_}"
    trainee_page = f"/trainees/{held.trainee_id}"
    form = client.get(f"/certificates/{held.serial}/revoke{query}", headers=EN).get_data(as_text=True)
    assert f'href="{trainee_page}">Cancel' in form and 'href="https://evil' not in form
    done = client.post(f"/certificates/{held.serial}/revoke{query}", data={"reason": "Dossier incomplet"})
    assert done.status_code == 302 and done.headers["Location"] == trainee_page
