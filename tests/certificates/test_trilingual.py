"""The certificate in Arabic, Tamazight (Tifinagh) and French, read back from the PDF; a track's title in
Tifinagh through the API and the form, frozen on the certificates issued with it.

Text is read with pdfium and normalised with NFKC on both sides (Arabic is drawn as presentation forms).
The Tifinagh labels expected are read from the zgh catalog, the one source of the terms.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

import pypdfium2 as pdfium
import pytest
import zxingcpp

from certificates import wording
from certificates.pdf import QR_SIZE, CertificateContent, render_certificate
from certificates.qr import QUIET_ZONE, make_qr
from common.extensions import db
from skills.models import Track
from tests.helpers import table_counts

HOLDER_TFNG = "ⵙⵍⴰⵃ ⴷⴷⵉⵏ ⵄⴰⵍⴰⵡⵉ"
TITLE_ZGH = "ⴰⵙⵙⵏ ⵏ ⵉⵙⴼⴽⴰ"
DPI = 200


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def lines_of(pdf: bytes) -> list[str]:
    return [line.strip() for line in nfkc(pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()).splitlines()]


@pytest.fixture(scope="module")
def content() -> CertificateContent:
    return CertificateContent(
        serial="KF-2026-000123", holder="Salah-Eddine Alaoui", holder_ar="صلاح الدين العلوي", holder_tfng=HOLDER_TFNG,
        track_title_fr="Science des données", track_title_ar="علم البيانات", track_title_zgh=TITLE_ZGH,
        modules=[("Python", "بايثون", 40), ("Éthique de l'IA", "أخلاقيات الذكاء الاصطناعي", 12.5)],
        issued_on=date(2026, 11, 26), expires_on=date(2029, 11, 26),
        verify_url="https://kafaa.ma/v/" + "7" * 160, verification_code="ABCD-EFGH",
        issuer_name="Programme national Kafaa", issuer_name_ar="البرنامج الوطني كفاءة", domain="kafaa.ma")


@pytest.fixture(scope="module")
def pdf(content: CertificateContent) -> bytes:
    return render_certificate(content)


def test_tifinagh_headings_name_and_title_are_in_the_text(pdf: bytes) -> None:
    text = "\n".join(lines_of(pdf))
    for label in (wording.TITLE, wording.AWARDED_TO, wording.FOR_TRACK, wording.MODULES):
        tifinagh = wording.words(label)["zgh"]
        assert any("\u2d30" <= ch <= "\u2d7f" for ch in tifinagh), f"{label!r} has no Tifinagh translation"
        assert nfkc(tifinagh) in text
    assert nfkc(wording.word(wording.TOTAL, "zgh", hours="52.5")) in text
    assert nfkc(wording.word(wording.ISSUED_VALID, "zgh", issued="26 ⵏⵓⵡⴰⵏⴱⵉⵔ 2026",
                             expires="26 ⵏⵓⵡⴰⵏⴱⵉⵔ 2029")) in text
    lines = lines_of(pdf)
    assert nfkc(HOLDER_TFNG) in lines and nfkc(TITLE_ZGH) in lines  # each a line of its own, whole


def test_arabic_and_french_are_still_there_in_reading_order(pdf: bytes, content: CertificateContent) -> None:
    lines = lines_of(pdf)
    for language in ("ar", "fr"):
        for label in (wording.TITLE, wording.AWARDED_TO, wording.FOR_TRACK, wording.MODULES):
            # Each Arabic label is a line of its own, in logical order: not mixed into a left-to-right line.
            assert any(nfkc(wording.words(label)[language]) in line for line in lines), (language, label)
    for line in (content.holder, content.holder_ar, content.track_title_fr, content.track_title_ar,
                 "Délivré le 26 novembre 2026 · valable jusqu'au 26 novembre 2029", "أخلاقيات الذكاء الاصطناعي"):
        assert any(nfkc(line) in got for got in lines), line


def test_names_and_titles_run_arabic_tifinagh_french(pdf: bytes, content: CertificateContent) -> None:
    """The order of the national identity card, from the top."""
    lines = lines_of(pdf)
    names = [lines.index(nfkc(n)) for n in (content.holder_ar, HOLDER_TFNG, content.holder)]
    titles = [lines.index(nfkc(t)) for t in (content.track_title_ar, TITLE_ZGH, content.track_title_fr)]
    assert names == sorted(names) and titles == sorted(titles)


def test_one_page_with_the_tifinagh_font_embedded(pdf: bytes) -> None:
    assert len(pdfium.PdfDocument(pdf)) == 1
    assert b"+NotoSansTifinagh-Regular" in pdf and pdf.count(b"/FontFile2") == 4  # Latin, bold, Arabic, Tifinagh subsets
    assert b"Helvetica" not in pdf


def test_qr_code_is_as_large_as_before_and_decodes(pdf: bytes, content: CertificateContent) -> None:
    """Read back from the page: the symbol (quiet zone excluded) spans what a 3 cm code always gave it."""
    image = pdfium.PdfDocument(pdf)[0].render(scale=DPI / 72).to_pil()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [content.verify_url]
    position = found[0].position
    width_pt = (position.top_right.x - position.top_left.x) * 72 / DPI
    modules = len(make_qr(content.verify_url).matrix)
    before = 30 / 25.4 * 72 * (modules - 2 * QUIET_ZONE) / modules  # the symbol of the former 3 cm code
    assert QR_SIZE >= 30 / 25.4 * 72
    assert width_pt >= before * 0.97  # corner detection is within a module or so


def test_without_tifinagh_name_or_title(content: CertificateContent) -> None:
    plain = replace(content, holder_tfng=None, track_title_zgh=None, expires_on=None)
    lines = lines_of(render_certificate(plain))
    text = "\n".join(lines)
    assert nfkc(HOLDER_TFNG) not in text and nfkc(TITLE_ZGH) not in text
    for line in (plain.holder, plain.holder_ar, plain.track_title_fr, plain.track_title_ar):
        assert nfkc(line) in lines
    assert nfkc(wording.words(wording.TITLE)["zgh"]) in text  # the labels stay trilingual
    assert nfkc(wording.word(wording.ISSUED, "zgh", issued="26 ⵏⵓⵡⴰⵏⴱⵉⵔ 2026")) in text
    assert "valable" not in text


def test_revoked_copy_is_marked_in_the_three_languages_and_english(content: CertificateContent) -> None:
    text = "\n".join(lines_of(render_certificate(content, revoked=True)))
    revoked = wording.words(wording.REVOKED)
    assert nfkc(revoked["ar"]) in text and nfkc(revoked["zgh"]) in text
    assert f"{revoked['fr'].upper()} · REVOKED" in text  # French in capitals, and English for a reader abroad


def test_labels_come_from_compiled_catalogs() -> None:
    for label in (wording.TITLE, wording.SIGNED, wording.CHECK_AT):
        words = wording.words(label)
        assert set(words) == {"ar", "zgh", "fr"} and label not in words.values()


# --- the track's Tifinagh title: API, form, certified record ------------------------------------------------


def _track_body(code: str, modules: list[str], **title: str | None) -> dict:
    return {"code": code, "modules": modules, "title": {"fr": "Parcours", "ar": "مسار", "en": "Track", **title}}


def test_api_takes_an_optional_tifinagh_title(client, admin, token_for, make_module) -> None:
    headers = token_for(admin)
    modules = [make_module().code]
    created = client.post("/api/v1/tracks", headers=headers, json=_track_body("ZGH-1", modules, zgh=TITLE_ZGH))
    assert created.status_code == 201, created.json
    assert created.json["title"] == {"fr": "Parcours", "ar": "مسار", "en": "Track", "zgh": TITLE_ZGH}
    without = client.post("/api/v1/tracks", headers=headers, json=_track_body("ZGH-2", modules))
    assert without.status_code == 201 and without.json["title"]["zgh"] is None
    # PUT replaces the track: a body without the Tifinagh title clears it.
    cleared = client.put("/api/v1/tracks/ZGH-1", headers=headers, json=_track_body("ZGH-1", modules))
    assert cleared.status_code == 200 and cleared.json["title"]["zgh"] is None


@pytest.mark.parametrize("title", ["Assn n isfka", "علم البيانات", 42, "ⴰ" * 201])
def test_api_refuses_a_tamazight_title_not_in_tifinagh(client, admin, token_for, make_module, title) -> None:
    headers = {**token_for(admin), "Accept-Language": "fr"}
    modules = [make_module().code]
    before = table_counts()
    refused = client.post("/api/v1/tracks", headers=headers, json=_track_body("ZGH-BAD", modules, zgh=title))
    assert refused.status_code == 422
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    messages = refused.json["errors"]["title.zgh"]
    assert messages and all(m for m in messages)
    if isinstance(title, str) and len(title) <= 200:
        assert messages == ["Écrivez l’intitulé amazighe en lettres tifinagh."]
    assert table_counts() == before  # nothing saved


def test_form_saves_the_tifinagh_title_and_says_what_is_wrong(client, login, admin, make_module) -> None:
    module = make_module()
    login(admin)
    form = {"code": "ZGH-FORM", "title_fr": "Parcours", "title_ar": "مسار", "title_en": "Track",
            "modules": [module.code], "min_attendance": "80"}
    before = table_counts()
    page = client.post("/tracks", data={**form, "title_zgh": "tamazight"}, headers={"Accept-Language": "ar"})
    assert "اكتب العنوان الأمازيغي بحروف تيفيناغ." in page.get_data(as_text=True)
    assert table_counts() == before
    assert client.post("/tracks", data={**form, "title_zgh": TITLE_ZGH}).status_code == 302
    assert db.session.scalar(db.select(Track.title_zgh).where(Track.code == "ZGH-FORM")) == TITLE_ZGH
    edit = client.get("/tracks/ZGH-FORM/edit").get_data(as_text=True)
    assert f'value="{TITLE_ZGH}"' in edit


def test_certificate_prints_the_tifinagh_title_frozen_at_issue(client, admin, token_for, make_module,
                                                               make_trainee, make_cohort, make_session) -> None:
    headers = token_for(admin)
    modules = [make_module().code]
    assert client.post("/api/v1/tracks", headers=headers,
                       json=_track_body("ZGH-CERT", modules, zgh=TITLE_ZGH)).status_code == 201
    track = db.session.scalar(db.select(Track).where(Track.code == "ZGH-CERT"))
    trainee = make_trainee(name_tfng=HOLDER_TFNG)
    plain = make_trainee()
    cohort = make_cohort(track=track, trainees=[trainee, plain])
    session = make_session(cohort)
    client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers,
               json={"records": [{"trainee_id": t.id, "status": "present"} for t in (trainee, plain)]})
    client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": [
        {"trainee_id": t.id, "module": code, "passed": True, "score": 90} for t in (trainee, plain) for code in modules]})
    issued = client.post("/api/v1/certificates", headers=headers, json={"trainee_id": trainee.id, "track": track.code})
    assert issued.status_code == 201, issued.json
    lines = lines_of(client.get(issued.json["pdf_url"], headers=headers).data)
    assert nfkc(TITLE_ZGH) in lines and nfkc(HOLDER_TFNG) in lines

    # Renaming the track afterwards changes only later certificates: the record keeps the Tifinagh title.
    assert client.put("/api/v1/tracks/ZGH-CERT", headers=headers,
                      json=_track_body("ZGH-CERT", modules, zgh="ⴰⴱⵔⵉⴷ ⴰⵎⴰⵢⵏⵓ")).status_code == 200
    check = client.get(issued.json["verify_url"].replace("https://kafaa.ma", ""),
                       headers={"Accept": "application/json"})
    assert check.json["track_title"]["zgh"] == TITLE_ZGH
    page = client.get(issued.json["verify_url"].replace("https://kafaa.ma", "") + "?lang=zgh").get_data(as_text=True)
    assert TITLE_ZGH in page

    later = client.post("/api/v1/certificates", headers=headers, json={"trainee_id": plain.id, "track": track.code})
    assert later.status_code == 201, later.json
    lines = lines_of(client.get(later.json["pdf_url"], headers=headers).data)
    assert nfkc("ⴰⴱⵔⵉⴷ ⴰⵎⴰⵢⵏⵓ") in lines and nfkc(HOLDER_TFNG) not in lines
    assert nfkc(plain.name) in lines and nfkc(plain.name_ar) in lines
