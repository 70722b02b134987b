"""`PORT=8080 make run` with no BASE_URL: links and QR codes follow the port served (they are printed for ever
into PDFs). An explicit BASE_URL always wins; a PORT that is not a port number stops the start, clearly."""
from __future__ import annotations

import pytest

from app import create_app
from tests.helpers import TEST_CONFIG

CONFIG = {key: value for key, value in TEST_CONFIG.items() if key != "BASE_URL"}


@pytest.fixture
def made(tmp_path, monkeypatch):
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)

    def make():
        return create_app({**CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'kafaa.db'}"}).config
    return make


def test_base_url_follows_port_when_unset(made, monkeypatch):
    assert made()["BASE_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "8080")
    assert made()["BASE_URL"] == "http://127.0.0.1:8080"


def test_an_explicit_base_url_wins_over_port(made, monkeypatch):
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("BASE_URL", "https://kafaa.ma/")
    config = made()
    assert config["BASE_URL"] == "https://kafaa.ma" and config["SESSION_COOKIE_SECURE"]


@pytest.mark.parametrize("port", ["80a", "0", "70000", "-1"])
def test_a_port_that_is_not_a_port_number_stops_the_start(made, monkeypatch, port):
    monkeypatch.setenv("PORT", port)
    with pytest.raises(ValueError, match="PORT must be a TCP port number"):
        made()


def test_make_run_passes_its_port_to_the_app():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert run.count("PORT=$(PORT) $(BIN)/flask") == 3  # upgrade, demo (its QR codes) and the server
