"""This machine's ceiling for the verification page's ratio: the least any page can do that looks a row up
and renders it, served and loaded exactly as the page is (gunicorn, 2 sync workers, wrk), against its own
/healthz. A bare Flask app with no hooks, one row read from SQLite with the standard library's sqlite3, and a
compiled Jinja page of the verification page's size. The page's ratio is read against this one, which moves
from one machine to the next (0.53 where the target was set).

Served by `python -m bench certificates` (gunicorn bench.ceiling:app, CEILING_DATABASE naming the file that
`make_database` wrote)."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from flask import Flask, g

ROWS = 1000
MODULES = ("Raisonnement", "Données", "Éthique", "Pratique")
PAGE = """<!doctype html>
<html lang="fr" dir="ltr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Certificat {{ serial }} · Kafaa</title><link rel="stylesheet" href="/static/kafaa.css"></head>
<body><header>{% for code in languages %}<a href="?lang={{ code }}" hreflang="{{ code }}">{{ code }}</a>{% endfor %}</header>
<main><div class="verdict verdict-valid" role="status"><h1>Certificat valide</h1>
<p>Ce certificat a été délivré par Kafaa et il est valide aujourd'hui. Il est valide jusqu'au {{ expires }} inclus.</p></div>
<dl class="facts"><dt>Titulaire</dt><dd><bdi lang="fr">{{ holder }}</bdi><br><bdi lang="ar" dir="rtl">{{ holder_ar }}</bdi></dd>
<dt>Parcours</dt><dd>{{ track }}</dd><dt>Modules</dt><dd><ul>
{% for title in modules %}<li>{{ title }} — {{ hours }} h</li>{% endfor %}</ul>Total : {{ hours * modules|length }} h</dd>
<dt>Numéro</dt><dd><bdi dir="ltr">{{ serial }}</bdi></dd><dt>Délivré le</dt><dd>{{ issued }}</dd>
<dt>Valide jusqu'au</dt><dd>{{ expires }}</dd><dt>Émetteur</dt><dd>Programme national Kafaa</dd></dl>
{% for line in filler %}<p class="note">{{ line }}</p>{% endfor %}</main>
<footer>Kafaa — registre national des formations au raisonnement en IA · <a href="/privacy">Protection des données</a></footer>
</body></html>"""
# Static text standing for the rest of the real page (its header mark, links, footnotes): the same size.
FILLER = ["Vérifiez un autre certificat, ou consultez la notice de protection des données personnelles."] * 14


def make_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE certificates (serial TEXT PRIMARY KEY, holder TEXT, holder_ar TEXT, "
                           "track TEXT, issued TEXT, expires TEXT)")
        connection.executemany("INSERT INTO certificates VALUES (?, ?, ?, ?, ?, ?)", [
            (f"KF-2026-{i:06d}", f"Titulaire {i}", f"حامل {i}", "Raisonnement en IA", "6 déc. 2026", "6 déc. 2029")
            for i in range(1, ROWS + 1)])
    connection.close()


app = Flask(__name__)
_page = app.jinja_env.from_string(PAGE)


def _connection() -> sqlite3.Connection:
    if "connection" not in g:
        g.connection = sqlite3.connect(os.environ["CEILING_DATABASE"])
    return g.connection


@app.teardown_appcontext
def _close(_error: BaseException | None) -> None:
    connection = g.pop("connection", None)
    if connection is not None:
        connection.close()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/v/<serial>")
def page(serial: str):
    row = _connection().execute("SELECT holder, holder_ar, track, issued, expires FROM certificates "
                                "WHERE serial = ?", (serial,)).fetchone()
    if row is None:
        return "not found", 404
    holder, holder_ar, track, issued, expires = row
    return _page.render(serial=serial, holder=holder, holder_ar=holder_ar, track=track, issued=issued,
                        expires=expires, modules=MODULES, hours=6, languages=("fr", "ar", "zgh", "en"),
                        filler=FILLER)
