"""Names and codes inside flash messages are isolated in <bdi> (common.templating.bdi_message), escaped,
and the sentence around them translated: an Arabic message does not reorder a Latin name or code."""
from __future__ import annotations

from markupsafe import Markup

from common.templating import bdi_message


def test_bdi_message_isolates_and_escapes_each_value():
    message = bdi_message("Trainee %(name)s saved in <%(code)s>.", name="<b>Nadia</b>", code="RAI-1")
    assert isinstance(message, Markup)
    assert message == ("Trainee <bdi>&lt;b&gt;Nadia&lt;/b&gt;</bdi> saved in &lt;<bdi>RAI-1</bdi>&gt;.")


def _trainee(**fields) -> dict:
    return {"name": "Nadia <Benali>", "name_ar": "نادية بنعلي", "email": "nadia@example.ma", "category": "official",
            "sector": "justice", "region": "oriental", "gender": "", **fields}


def test_a_flash_wraps_the_name_in_bdi_in_every_language(client, login, admin):
    login(admin)
    created = client.post("/trainees/new", data=_trainee(), headers={"Accept-Language": "ar"})
    assert created.status_code == 302, created.get_data(as_text=True)
    page = client.get(created.headers["Location"], headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "<bdi>Nadia &lt;Benali&gt;</bdi>" in page  # isolated, and escaped once
    assert "Nadia <Benali>" not in page and "&amp;lt;" not in page


def test_a_flash_wraps_a_code_in_bdi(client, login, admin):
    login(admin)
    created = client.post("/modules", data={"code": "M-ETH", "title_fr": "Éthique", "title_ar": "الأخلاقيات",
                                                "title_en": "Ethics", "hours": "6"})
    assert created.status_code == 302, created.get_data(as_text=True)
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "<bdi>M-ETH</bdi>" in page
