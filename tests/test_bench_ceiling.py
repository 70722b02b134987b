"""bench/ceiling.py, the page `python -m bench certificates` reads the verification page's ratio against:
it must really look its row up and render it, or the ceiling it gives would be no ceiling."""
from bench import ceiling


def test_the_ceiling_page_looks_up_its_row_and_renders_it(tmp_path, monkeypatch):
    database = tmp_path / "ceiling.db"
    ceiling.make_database(database)
    monkeypatch.setenv("CEILING_DATABASE", str(database))
    client = ceiling.app.test_client()
    page = client.get("/v/KF-2026-000500")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Titulaire 500" in text and "حامل 500" in text and "KF-2026-000500" in text
    assert client.get("/v/KF-2026-999999").status_code == 404
    assert client.get("/healthz").json == {"status": "ok"}
