"""Certificate PDF: read back what a person and a phone would see, and check the PAdES signature."""

from __future__ import annotations

import io
import stat
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from certificates import fonts
from certificates.pdf import CertificateContent, PdfSigner, render_certificate, validate_signature
from certificates.qr import make_qr, qr_png, qr_svg
from certificates.signing import KeyStore, make_token, verification_code, verify_url

HOLDER_AR = "صلاح الدين عبد الله العلوي"  # a lam-alef and an Allah ligature once shaped
HOLDER_TFNG = "ⵙⵍⴰⵃ ⴷⴷⵉⵏ ⵄⴰⵍⴰⵡⵉ"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def content(keys_dir: Path) -> CertificateContent:
    store = KeyStore(keys_dir)
    store.ensure()
    token, claims = make_token(
        store,
        serial="KF-2026-000123",
        holder="Salah-Eddine Abdellah Alaoui",
        holder_ar=HOLDER_AR,
        holder_tfng=HOLDER_TFNG,
        track="IA-DATA-01",
        issued_on=date(2026, 11, 26),
        expires_on=date(2029, 11, 26),
    )
    return CertificateContent(
        serial=claims.serial,
        holder=claims.holder,
        holder_ar=claims.holder_ar,
        holder_tfng=claims.holder_tfng,
        track_title_fr="Science des données et apprentissage automatique",
        track_title_ar="علم البيانات والتعلم الآلي",
        modules=[
            ("Python pour la science des données", "بايثون لعلم البيانات", 40),
            ("Apprentissage automatique", "التعلم الآلي", 50),
            ("Éthique de l'IA", "أخلاقيات الذكاء الاصطناعي", 12.5),
        ],
        issued_on=claims.issued_on,
        expires_on=claims.expires_on,
        verify_url=verify_url("https://kafaa.ma", token),
        verification_code=verification_code(token),
        issuer_name="Programme national Kafaa — Ministère de la Transition numérique",
        domain="kafaa.ma",
    )


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> PdfSigner:
    return PdfSigner.from_directory(keys_dir)


@pytest.fixture(scope="module")
def pdf(content: CertificateContent) -> bytes:
    return render_certificate(content)


@pytest.fixture(scope="module")
def signed(signer: PdfSigner, pdf: bytes) -> bytes:
    return signer.sign(pdf)


def page_text(data: bytes) -> str:
    page = pdfium.PdfDocument(data)[0]
    return unicodedata.normalize("NFKC", page.get_textpage().get_text_range())


def page_image(data: bytes, dpi: int = 150) -> Image.Image:
    return pdfium.PdfDocument(data)[0].render(scale=dpi / 72).to_pil()


def test_page_is_a4_landscape(pdf: bytes) -> None:
    width, height = pdfium.PdfDocument(pdf)[0].get_size()
    assert (round(width), round(height)) == (842, 595)


def test_qr_decodes_to_the_exact_verify_url(signed: bytes, content: CertificateContent) -> None:
    found = zxingcpp.read_barcodes(page_image(signed), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [content.verify_url]


def test_qr_is_small_enough_for_3_cm(keys_dir: Path, content: CertificateContent) -> None:
    # Version 9 is 53 modules: 0.57 mm a module at 3 cm. Keep it from creeping up unnoticed.
    store = KeyStore(keys_dir)
    typical, _ = make_token(
        store, serial="KF-2026-000123", holder="Fatima-Zahra El Amrani Id", holder_ar="فاطمة الزهراء ع",
        holder_tfng=None, track="IA-DATA-01", issued_on=date(2026, 11, 26), expires_on=date(2029, 11, 26),
    )
    assert make_qr(verify_url("https://kafaa.ma", typical)).version <= 9
    # Longer names in three scripts, as in this test's certificate: 57 modules, 0.53 mm.
    assert make_qr(content.verify_url).version <= 10


def test_names_and_codes_are_in_the_text(pdf: bytes, content: CertificateContent) -> None:
    text = page_text(pdf)
    for expected in (content.holder, content.serial, content.verification_code, content.domain,
                     content.track_title_fr, "Éthique de l'IA"):
        assert expected in text


def test_arabic_is_shaped_and_in_reading_order(pdf: bytes) -> None:
    # What is drawn are presentation forms in visual order (reportlab does not shape)...
    drawn = fonts.visual(HOLDER_AR)
    assert any("\ufb50" <= ch <= "\ufeff" for ch in drawn)
    assert "\ufefb" in drawn or "\ufefc" in drawn  # lam-alef ligature
    # ...and pdfium reads them back in logical order; NFKC maps the forms to plain letters.
    # Drawn without bidi reordering, the name would come back reversed and fail here.
    lines = page_text(pdf).splitlines()
    assert unicodedata.normalize("NFKC", HOLDER_AR) in lines


def test_tifinagh_name_in_order(pdf: bytes) -> None:
    assert HOLDER_TFNG in page_text(pdf).splitlines()


def test_fonts_are_embedded_and_cover_the_names(pdf: bytes) -> None:
    assert pdf.count(b"/FontFile2") >= 3  # Latin, Latin bold, Arabic: all embedded subsets
    coverage = fonts.register_fonts().coverage
    for name in (fonts.visual(HOLDER_AR), HOLDER_TFNG, "Zoé Ñúñez Œuvre"):
        for font, part in fonts.runs(name, fonts.chain_for(name)):
            assert all(ord(ch) in coverage[font] for ch in part), (font, part)


def test_without_tifinagh_or_expiry(content: CertificateContent) -> None:
    text = page_text(render_certificate(replace(content, holder_tfng=None, expires_on=None)))
    assert HOLDER_TFNG not in text
    assert "valable" not in text
    assert content.holder in text


def test_revoked_copy_is_marked(content: CertificateContent, pdf: bytes, signer: PdfSigner) -> None:
    assert "REVOKED" not in page_text(pdf)
    revoked = signer.sign(render_certificate(content, revoked=True))
    assert "REVOKED" in page_text(revoked)
    assert "RÉVOQUÉ" in page_text(revoked)
    assert validate_signature(revoked, [signer.certificate])


def test_signature_validates(signed: bytes, signer: PdfSigner) -> None:
    assert validate_signature(signed, [signer.certificate])
    assert validate_signature(signed)  # integrity alone


def test_unsigned_pdf_does_not_validate(pdf: bytes) -> None:
    assert not validate_signature(pdf)


def test_one_changed_byte_in_signed_range_fails(signed: bytes, signer: PdfSigner) -> None:
    # Change a byte inside the page's content stream: still a readable PDF, but no longer intact.
    start = signed.index(b"stream", signed.index(b"/Contents")) + 20
    for pos in (start, len(signed) // 3):
        tampered = bytearray(signed)
        tampered[pos] ^= 0x01
        assert not validate_signature(bytes(tampered), [signer.certificate])


def test_appended_update_fails(signed: bytes, signer: PdfSigner) -> None:
    assert not validate_signature(signed + b"\n1 0 obj\n<< >>\nendobj\n", [signer.certificate])


def test_untrusted_signer_fails(signed: bytes, tmp_path: Path) -> None:
    stranger = PdfSigner.from_directory(tmp_path)
    assert not validate_signature(signed, [stranger.certificate])


def test_signer_files_generated_once_and_private(keys_dir: Path, signer: PdfSigner) -> None:
    key = keys_dir / "pdf-signer.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = PdfSigner.from_directory(keys_dir)
    assert again.certificate.dump() == signer.certificate.dump()


def test_qr_png_and_svg_decode(content: CertificateContent) -> None:
    # Only look for QR codes: zxing can also "see" a spurious 1D code in the squares.
    png = Image.open(io.BytesIO(qr_png(content.verify_url)))
    found = zxingcpp.read_barcodes(png, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [content.verify_url]
    svg = qr_svg(content.verify_url)
    assert svg.startswith("<svg") and "<?xml" not in svg


def _loaded_signer_certificate(directory: str) -> bytes:
    return PdfSigner.from_directory(directory).certificate.dump()


def test_instances_starting_together_share_one_development_signer(tmp_path: Path) -> None:
    """Several processes on an empty, shared KEYS_DIR: one makes the signer, the others load that one."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("fork")) as pool:
        loaded = set(pool.map(_loaded_signer_certificate, [str(tmp_path / "keys")] * 4))
    assert len(loaded) == 1
    assert PdfSigner.from_directory(tmp_path / "keys").certificate.dump() in loaded


@pytest.mark.parametrize("digits", [40, 200, 359, 420])
def test_qr_codes_with_the_fixed_mask_decode(digits: int) -> None:
    """The mask is fixed rather than scored: symbols of several versions still read back."""
    url = verify_url("https://kafaa.ma", "7" + "".join(str(i * 7919 % 10) for i in range(digits - 1)))
    qr = make_qr(url)
    assert qr.mask == 0
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(url))), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [url]
