"""The paper says what the registry says: certificates for hard names, read back from the PDF.

What is compared, and why this way:
- pdfium reads each centred name back as one line, and puts right-to-left lines back in logical order
  (the order they were typed in), so a name is compared whole, character for character.
- Arabic is drawn as presentation forms (reportlab does not shape): NFKC maps them back to letters.
  NFKC also maps the Tifinagh labialization mark U+2D6F to ⵡ U+2D61, and the Allah ligature to its
  four letters, so both sides are normalised the same way (NFKC) before comparing.
- A character can be in the text layer yet drawn as nothing (a font without its glyph: how ⵦ and ⵿
  vanished): every character on the page is also checked against the font pdfium says drew it.
"""

from __future__ import annotations

import ctypes
import unicodedata
from datetime import date

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from reportlab.pdfbase import pdfmetrics

from certificates import fonts
from certificates.pdf import CertificateContent, render_certificate
from tests.helpers import complete_track

TIFINAGH_ALL = "".join(chr(cp) for cp in range(0x2D30, 0x2D68)) + "\u2d6f\u2d70\u2d7f"


def _words(letters: str, size: int) -> str:
    return " ".join(letters[i : i + size] for i in range(0, len(letters), size))


# (holder, holder_ar, holder_tfng): each one a name the registry accepts.
CORPUS = {
    "vowelled": ("Mohammed Ben Abdellah", "مُحَمَّدٌ بْنُ عَبْدِ اللّٰهِ", "ⵎⵓⵃⵎⵎⴷ"),
    "shadda-tanwin": ("Fatima-Zahra", "فَاطِمَةُ الزَّهْرَاءِ كِتَابًا مُسْلِمٍ", None),
    "moroccan-letters": ("Gaouad Vitali Pépin", "ڭاوْد ڤيتالي پيپان أمڭار", "ⴳⴰⵡⴰⴷ"),
    "tifinagh-all": ("Amazigh", "أمازيغ", _words(TIFINAGH_ALL, 10)),
    "tifinagh-marks": ("Agʷmar", "أڭمار", "ⴰⴳⵯⵎⴰⵔ ⵜⵜ⵿ⵙ ⵟⵟⵢ ⵄⵥⵦⵧ"),
    "digits": ("Mohammed 6 Alaoui 09-08", "محمد 6 العلوي القانون 09-08", "ⵎⵓⵃⵎⵎⴷ 6"),
    "arabic-indic-digits": ("Rue 2", "الزنقة ٢٣-١٤ رقم ٥", None),
    "long": ("Abdelouahed " * 15 + "Alaoui-Ismaili",
             "عَبْدُ الْوَاحِدِ " * 11 + "العلوي الإسماعيلي",
             "ⴰⴱⴷⵍⵡⴰⵃⴷ " * 19 + "ⴰⵄⵍⴰⵡⵉ"),
    "latin-diacritics": ("Zoé Ñúñez-Œuvre d'Aït Ḥaddou", "زوي", None),
}
# Fixed labels carrying marks, printed on every certificate.
LABELS = ("تُمنح إلى", "سُلّمت بتاريخ")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def content_for(holder: str, holder_ar: str, holder_tfng: str | None) -> CertificateContent:
    return CertificateContent(
        serial="KF-2026-000123", holder=holder, holder_ar=holder_ar, holder_tfng=holder_tfng,
        track_title_fr="Science des données", track_title_ar="علم البيانات",
        modules=[("Python", "بايثون", 40), ("Loi 09-08", "القانون 09-08", 6)],
        issued_on=date(2026, 11, 26), expires_on=date(2029, 11, 26),
        verify_url="https://kafaa.ma/v/1234", verification_code="ABCD-EFGH",
        issuer_name="Programme national Kafaa", issuer_name_ar="البرنامج الوطني كفاءة", domain="kafaa.ma",
    )


def text_lines(pdf: bytes) -> list[str]:
    page = pdfium.PdfDocument(pdf)[0]
    return [nfkc(line).strip() for line in page.get_textpage().get_text_range().splitlines()]


def drawn_characters(pdf: bytes) -> list[tuple[str, str]]:
    """(character, PostScript name of the font that drew it) for every character on the page."""
    textpage = pdfium.PdfDocument(pdf)[0].get_textpage()
    out = []
    for i in range(textpage.count_chars()):
        cp = pdfium_c.FPDFText_GetUnicode(textpage, i)
        if cp in (0x0A, 0x0D) or chr(cp).isspace():
            continue  # generated line breaks and spaces
        name = ctypes.create_string_buffer(256)
        pdfium_c.FPDFText_GetFontInfo(textpage, i, name, len(name), ctypes.byref(ctypes.c_int()))
        out.append((chr(cp), name.value.decode()))
    return out


def font_coverage() -> dict[str, frozenset[int]]:
    """Our fonts' glyph coverage, by the PostScript name a PDF reader reports."""
    loaded = fonts.register_fonts()
    return {pdfmetrics.getFont(name).face.name.decode(): cover for name, cover in loaded.coverage.items()}


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {key: render_certificate(content_for(*names)) for key, names in CORPUS.items()}


@pytest.mark.parametrize("key", CORPUS)
def test_every_name_reads_back_exactly(rendered: dict[str, bytes], key: str) -> None:
    lines = text_lines(rendered[key])
    for name in CORPUS[key]:
        if name:
            assert nfkc(name) in lines, (name, lines)


@pytest.mark.parametrize("key", CORPUS)
def test_every_character_has_a_glyph_in_the_font_that_drew_it(rendered: dict[str, bytes], key: str) -> None:
    coverage = font_coverage()
    drawn = drawn_characters(rendered[key])
    assert drawn
    missing = {(ch, font) for ch, font in drawn if ord(ch) not in coverage.get(font, ())}
    assert not missing
    assert {font for _, font in drawn} <= set(coverage)  # nothing left to a viewer's own fonts


def test_every_tifinagh_letter_is_drawn_by_noto_sans_tifinagh(rendered: dict[str, bytes]) -> None:
    drawn = {ch: font for ch, font in drawn_characters(rendered["tifinagh-all"]) if "\u2d30" <= ch <= "\u2d7f"}
    # U+2D6F comes back as itself from the text layer (it is NFKC that folds it): all 59 are there.
    assert set(drawn) == set(TIFINAGH_ALL)
    assert set(drawn.values()) == {"NotoSansTifinagh-Regular"}


def test_marks_are_drawn_not_dropped(rendered: dict[str, bytes]) -> None:
    drawn = "".join(ch for ch, _ in drawn_characters(rendered["vowelled"]))
    for mark in "\u064c\u064e\u064f\u0650\u0651\u0652\u0670":  # tanwin damm, fatha, damma, kasra, shadda, sukun
        assert mark in drawn, hex(ord(mark))
    # Marks are drawn by the Arabic font, which has a zero-width glyph for each: no box, no gap.
    arabic = pdfmetrics.getFont(fonts.ARABIC)
    assert all(arabic.face.charWidths.get(ord(m), None) == 0 for m in "\u064e\u064f\u0650\u0651\u0652")


def test_fixed_labels_keep_their_marks(rendered: dict[str, bytes]) -> None:
    text = "\n".join(text_lines(rendered["vowelled"]))
    for label in LABELS:
        assert nfkc(label) in text


def test_numbers_keep_their_order_inside_arabic(rendered: dict[str, bytes]) -> None:
    lines = text_lines(rendered["digits"])
    assert nfkc("محمد 6 العلوي القانون 09-08") in lines
    # What is drawn, left to right: the number reads 09-08 as typed, not 08-09.
    drawn = fonts.visual("القانون 09-08")
    assert "09-08" in drawn and "08-09" not in drawn
    assert "٢٣-١٤" in fonts.visual("الزنقة ٢٣-١٤ رقم ٥")
    assert not any(ch in drawn for ch in "\u2066\u2069\u202a\u202b\u202c\u202d\u202e")


def test_fonts_embedded_title_and_language_set(rendered: dict[str, bytes]) -> None:
    pdf = rendered["tifinagh-all"]
    assert b"Helvetica" not in pdf and b"/Type1" not in pdf  # no standard font left to the viewer
    assert pdf.count(b"/FontFile2") == 4  # Latin, Latin bold, Arabic, Tifinagh: embedded subsets
    assert b"/Lang (fr-MA)" in pdf
    doc = pdfium.PdfDocument(pdf)
    assert doc.get_metadata_value("Title") == "Certificat de formation KF-2026-000123 — Amazigh"
    assert b"/DisplayDocTitle true" in pdf


def test_registry_names_read_back_from_the_issued_pdf(client, make_trainee, make_track, admin, token_for) -> None:
    """End to end, on the database: the PDF the app serves says what the trainee record says."""
    from skills.models import Trainee

    headers = token_for(admin)
    track = make_track()
    trainee = make_trainee(name="Mohammed 6 Ben Abdellah", name_ar="مُحَمَّدٌ بْنُ عَبْدِ اللّٰهِ 09-08",
                           name_tfng="ⴰⴳⵯⵎⴰⵔ ⵜⵜ⵿ⵙ ⵄⵥⵦⵧ ⵰")
    complete_track(client, headers, admin, trainee, track)
    issued = client.post("/api/v1/certificates", headers=headers,
                         json={"trainee_id": trainee.id, "track": track.code})
    assert issued.status_code == 201, issued.json
    pdf = client.get(issued.json["pdf_url"], headers=headers).data
    from common.extensions import db
    record = db.session.get(Trainee, trainee.id)
    lines = text_lines(pdf)
    for name in (record.name, record.name_ar, record.name_tfng):
        assert nfkc(name) in lines
    coverage = font_coverage()
    assert all(ord(ch) in coverage.get(font, ()) for ch, font in drawn_characters(pdf))
