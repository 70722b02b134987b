"""Certificate PDF: A4 landscape in Arabic, Tamazight (Tifinagh) and French, drawn with reportlab;
PAdES-signed with pyHanko."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as sig_fields
from pyhanko.sign import signers, timestamps
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from common.printed_dates import date_ar as _date_ar, date_fr as _date_fr, date_zgh as _date_zgh
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from . import fonts, wording
from .qr import QUIET_ZONE, draw_qr, make_qr
from .signing import keys_directory_lock

PAGE_W, PAGE_H = landscape(A4)
QR_SIZE = 30 / 25.4 * 72  # 3 cm
MARGIN = 56.0
GREEN = HexColor("#0B6E4F")
GREY = HexColor("#555555")
BLACK = HexColor("#000000")
RED = Color(0.78, 0.06, 0.06, alpha=0.35)
DOCUMENT_LANG = "fr-MA"


@dataclass
class CertificateContent:
    serial: str
    holder: str
    holder_ar: str
    holder_tfng: str | None
    track_title_fr: str
    track_title_ar: str
    modules: Sequence[tuple[str, str, float]]  # (title_fr, title_ar, hours)
    issued_on: date
    expires_on: date | None
    verify_url: str
    verification_code: str
    issuer_name: str
    domain: str  # printed beside the QR code so a reader can spot a look-alike
    issuer_name_ar: str = ""  # drawn above issuer_name when given
    track_title_zgh: str | None = None  # the track's title in Tifinagh, when the track has one
    recognised: Sequence[bool] = ()  # per module: counted through a recognition of prior learning
    builds_on: Sequence[tuple[str, str]] = ()  # the tracks it requires: (title_fr, title_ar)


def _hours(h: float) -> str:
    return f"{h:g}"


def _line(c: Canvas, text: str, x: float, y: float, size: float, max_width: float, *,
          align: str = "left", bold: bool = False) -> None:
    fonts.draw_fitted(c, text, x, y, size, max_width, align=align, bold=bold)


# The page's three columns, as on the national identity card read from the right: Arabic on the right,
# Tamazight (Tifinagh) in the middle, French on the left. Labels stand in all three; stacked lines
# (names, track titles, dates) run Arabic, Tamazight, French from the top.
LEFT, RIGHT, MID = MARGIN, PAGE_W - MARGIN, PAGE_W / 2
COLUMN = (RIGHT - LEFT) / 3 - 12
_ANCHOR = {"fr": (LEFT, "left"), "zgh": (MID, "center"), "ar": (RIGHT, "right")}


class _Page:
    """The canvas, and the Arabic of the right-hand column held back for a pass of its own (`finish`).

    Drawn on a line shared with left-to-right text, Arabic comes back from text extraction (copying,
    search, screen readers) with its words, even its letters, out of order; drawn after the rest, each
    label is a line of its own and reads back in logical order. The page looks the same either way."""

    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self._right: list[tuple[str, float, float, float, Color]] = []

    def right(self, text: str, y: float, size: float, width: float, colour: Color) -> None:
        self._right.append((text, y, size, width, colour))

    def finish(self) -> None:
        for text, y, size, width, colour in self._right:
            self.c.setFillColor(colour)
            _line(self.c, text, RIGHT, y, size, width, align="right")


def _columns(page: _Page, texts: dict[str, str], y: float, size: float, colour: Color, *,
             width: float = COLUMN, bold: bool = False) -> None:
    """One label in each language's column. Only French is set in bold: the Arabic and Tifinagh faces
    have one weight, and a bold Latin face would draw Tifinagh in another design."""
    page.c.setFillColor(colour)
    _line(page.c, texts["fr"], LEFT, y, size, width, bold=bold)
    _line(page.c, texts["zgh"], MID, y, size, width, align="center")
    page.right(texts["ar"], y, size, width, colour)


def _stack(c: Canvas, lines: Sequence[tuple[str | None, float, bool]], y: float, gap: float) -> float:
    """Centred lines from the top, skipping missing ones (text, size, bold); the y below the last."""
    for text, size, bold in lines:
        if text:
            _line(c, text, MID, y, size, RIGHT - LEFT, align="center", bold=bold)
            y -= size + gap
    return y


def _draw_modules(page: _Page, content: CertificateContent, y: float, floor: float) -> None:
    """The modules between y and floor: French title | hours | Arabic title, then the total, and a footnote
    when some modules were recognised prior learning (marked *) rather than attended."""
    c = page.c
    recognised = list(content.recognised) or [False] * len(content.modules)
    rows = len(content.modules) + 2 + any(recognised)  # heading, total, and the footnote
    step = min(15.0, (y - floor) / max(rows - 1, 1))
    size = min(10.0, step * 0.72)
    title_w = MID - LEFT - 60
    _columns(page, wording.words(wording.MODULES), y, size, GREEN, width=title_w, bold=True)
    c.setStrokeColor(GREEN)
    c.setLineWidth(0.5)
    c.line(LEFT, y - 4, RIGHT, y - 4)
    c.setFillColorRGB(0, 0, 0)
    total = 0.0
    for (title_fr, title_ar, hours), prior in zip(content.modules, recognised):
        y -= step
        total += hours
        mark = " *" if prior else ""
        _line(c, title_fr + mark, LEFT, y, size, title_w)
        _line(c, f"{_hours(hours)} h", MID, y, size, 100, align="center")
        page.right(title_ar + mark, y, size, title_w, BLACK)
    y -= step
    _columns(page, {lang: wording.word(wording.TOTAL, lang, hours=_hours(total)) for lang in wording.LANGUAGES},
             y, size, BLACK, width=title_w, bold=True)
    if any(recognised):
        y -= step
        _columns(page, {lang: "* " + text for lang, text in wording.words(wording.RECOGNISED).items()},
                 y, size * 0.9, GREY, width=title_w)


def render_certificate(content: CertificateContent, *, revoked: bool = False) -> bytes:
    """Draw the certificate and return unsigned PDF bytes (sign them with PdfSigner.sign)."""
    fonts.register_fonts()
    buf = io.BytesIO()
    # The initial font is one of ours, so no unembedded Helvetica is referenced; the document's main
    # language is French as written in Morocco (the Arabic and Tamazight lines stand beside it).
    c = Canvas(buf, pagesize=(PAGE_W, PAGE_H), pageCompression=1, lang=DOCUMENT_LANG,
               initialFontName=fonts.LATIN)
    title = wording.words(wording.TITLE)
    c.setTitle(f"{title['fr']} {content.serial} — {content.holder}")
    c.setViewerPreference("DisplayDocTitle", "true")
    c.setAuthor(content.issuer_name)
    c.setSubject(f"{content.holder} — {content.track_title_fr}")
    page = _Page(c)

    # Frame
    c.setStrokeColor(GREEN)
    c.setLineWidth(3)
    c.rect(24, 24, PAGE_W - 48, PAGE_H - 48)
    c.setLineWidth(0.8)
    c.rect(30, 30, PAGE_W - 60, PAGE_H - 60)

    # Header: the issuer (Arabic, then French), then the title in the three columns.
    c.setFillColor(GREY)
    _stack(c, [(content.issuer_name_ar, 11, False), (content.issuer_name, 11, False)], PAGE_H - 54, 3)
    _columns(page, title, PAGE_H - 100, 22, GREEN, bold=True)

    # Holder names, centred: Arabic, Tifinagh (when registered), Latin.
    _columns(page, wording.words(wording.AWARDED_TO), PAGE_H - 123, 10, GREY)
    c.setFillColorRGB(0, 0, 0)
    y = _stack(c, [(content.holder_ar, 24, False), (content.holder_tfng, 18, False), (content.holder, 24, True)],
               PAGE_H - 150, 6)

    # Track: the label in three columns, then its titles stacked (Tifinagh when the track has one).
    y -= 2
    _columns(page, wording.words(wording.FOR_TRACK), y, 10, GREY)
    c.setFillColorRGB(0, 0, 0)
    y = _stack(c, [(content.track_title_ar, 14, False), (content.track_title_zgh, 13, False),
                   (content.track_title_fr, 14, True)], y - 19, 4)
    if content.builds_on:  # the pathway level: the tracks this one requires, by their French and Arabic titles
        label = wording.words(wording.BUILDS_ON)
        titles = {"fr": ", ".join(fr for fr, _ in content.builds_on), "ar": "، ".join(ar for _, ar in content.builds_on)}
        titles["zgh"] = titles["fr"]
        _columns(page, {lang: label[lang] + ("\u202f: " if lang == "fr" else ": ") + titles[lang]
                        for lang in wording.LANGUAGES}, y - 4, 9, GREY)
        y -= 15

    # Modules, above the dates and clear of the QR block (under the Arabic column).
    qr_x, qr_y = RIGHT - QR_SIZE, 68.0
    _draw_modules(page, content, y - 6, floor=qr_y + QR_SIZE + 12)

    # Dates and the signature notice, bottom left: Arabic, Tamazight, French, centred on their block.
    text_w = qr_x - LEFT - 150
    centre_x = LEFT + text_w / 2
    dates = {"ar": _date_ar, "zgh": _date_zgh, "fr": _date_fr}
    message = wording.ISSUED_VALID if content.expires_on else wording.ISSUED
    c.setFillColorRGB(0, 0, 0)
    for i, lang in enumerate(wording.LANGUAGES):
        when = {"issued": dates[lang](content.issued_on)}
        if content.expires_on:
            when["expires"] = dates[lang](content.expires_on)
        _line(c, wording.word(message, lang, **when), centre_x, 126 - 13 * i, 10, text_w, align="center")
    c.setFillColor(GREY)
    for i, text in enumerate(wording.words(wording.SIGNED).values()):
        _line(c, text, centre_x, 76 - 11 * i, 8, text_w, align="center")

    # QR block, bottom right: where to check beside it, serial and code under it.
    qr = make_qr(content.verify_url)
    draw_qr(c, qr, qr_x, qr_y, QR_SIZE)
    quiet = QUIET_ZONE * QR_SIZE / len(qr.matrix)
    beside = qr_x - quiet - 2
    c.setFillColor(GREY)
    for i, text in enumerate(wording.words(wording.CHECK_AT).values()):
        _line(c, text, beside, qr_y + QR_SIZE - 10 - 11 * i, 8, 120, align="right")
    c.setFillColorRGB(0, 0, 0)
    _line(c, content.domain, beside, qr_y + QR_SIZE - 50, 11, 130, align="right", bold=True)
    centre = qr_x + QR_SIZE / 2
    _line(c, content.serial, centre, qr_y - quiet - 8, 8, QR_SIZE + 40, align="center")
    _line(c, content.verification_code, centre, qr_y - quiet - 20, 10, QR_SIZE + 40,
          align="center", bold=True)

    page.finish()
    if revoked:
        _draw_revoked(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def _draw_revoked(c: Canvas) -> None:
    """The mark across a revoked copy: Arabic, Tamazight, then French with English for a reader abroad."""
    revoked = wording.words(wording.REVOKED)
    c.saveState()
    c.setFillColor(RED)
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(24)
    fonts.draw_text(c, revoked["ar"], 0, 70, 56, align="center")
    fonts.draw_text(c, revoked["zgh"], 0, 10, 48, align="center")
    fonts.draw_text(c, f"{revoked['fr'].upper()} · REVOKED", 0, -60, 64, align="center", bold=True)
    c.restoreState()


# ---------------------------------------------------------------------------------------------
# PAdES signing


class _CachedKeySigner(signers.SimpleSigner):
    """SimpleSigner re-parses its private key on every signature (most of the cost with RSA);
    this one keeps the parsed key and only falls back to pyHanko for unusual mechanisms."""

    def __init__(self, *, private_key: object, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa" and isinstance(self._key, EllipticCurvePrivateKey):
            return self._key.sign(data, ECDSA(digest))
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), digest)
        return super().sign_raw(data, digest_algorithm)


DEVELOPMENT_CN = "Kafaa DEVELOPMENT signer — not for production"


def generate_dev_signer(directory: Path | str, *, common_name: str = DEVELOPMENT_CN,
                        organisation: str = "Programme national Kafaa (development)") -> tuple[Path, Path]:
    """Write a self-signed ECDSA P-256 certificate and key (0600) for development; return paths.

    Its subject says it is a development signer, so nobody mistakes what a PDF reader shows for a
    real one."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_path, key_path = directory / "pdf-signer.crt", directory / "pdf-signer.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MA"),
    ])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def fingerprint(cert: asn1_x509.Certificate) -> str:
    """SHA-256 of the DER certificate as PDF readers and openssl show it: AB:CD:..."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(cert.dump()).digest())


def _is_self_signed(cert: asn1_x509.Certificate) -> bool:
    return cert.self_signed in ("maybe", "yes")


def _leaf_and_chain(certs: Sequence[asn1_x509.Certificate], private_key: object
                    ) -> tuple[asn1_x509.Certificate, list[asn1_x509.Certificate]]:
    """The certificate of this private key, and the others (intermediates, perhaps the root)."""
    if not certs:
        raise ValueError("PDF_SIGNER_CERT holds no certificate")
    public = private_key.public_key()  # type: ignore[attr-defined]
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for cert in certs:
        if cert.public_key.dump() == spki:
            return cert, [c for c in certs if c is not cert]
    raise ValueError("no certificate in PDF_SIGNER_CERT matches the private key in PDF_SIGNER_KEY")


class PdfSigner:
    """Loads the issuer's X.509 certificate, chain and key once; `sign` applies a PAdES signature.

    - B-B: the signer's certificate and every other certificate given (intermediates, root) are
      embedded in the signature, so a reader can build the path to a root it trusts.
    - B-T: with a timestamper (an RFC 3161 authority, TSA_URL), the signature carries a timestamp:
      proof that it existed at that time, not a time the signer claims.
    - B-LT: with a validation context as well, the certificates' revocation data (CRL, OCSP) are
      fetched at signing time and stored in the document (DSS), so it can be checked offline later.
    The signature certifies the document (DocMDP: no changes allowed), so a PDF reader flags any
    alteration, including ones appended later as incremental updates (a DSS update is allowed).
    """

    def __init__(self, cert_path: Path | str, key_path: Path | str, *,
                 key_password: bytes | None = None, chain_paths: Sequence[Path | str] = (),
                 timestamper: timestamps.TimeStamper | None = None,
                 validation_context: Callable[[], ValidationContext] | None = None,
                 development: bool = False,
                 reason: str = "Certificat délivré par le programme national Kafaa",
                 location: str = "Maroc") -> None:
        key_info = load_private_key_from_pemder(str(key_path), passphrase=key_password)
        private_key = serialization.load_der_private_key(key_info.dump(), password=None)
        certs = list(load_certs_from_pemder([str(cert_path), *map(str, chain_paths)]))
        cert, chain = _leaf_and_chain(certs, private_key)
        self.certificate: asn1_x509.Certificate = cert
        self.chain: list[asn1_x509.Certificate] = chain
        self.development = development
        self.timestamped = timestamper is not None
        self.long_term = validation_context is not None and timestamper is not None
        self._timestamper = timestamper
        self._validation_context = validation_context if self.long_term else None
        self._signer = _CachedKeySigner(
            signing_cert=cert,
            signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),
            private_key=private_key,
        )
        meta = signers.PdfSignatureMetadata(
            field_name="KafaaSignature",
            md_algorithm="sha256",
            subfilter=sig_fields.SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=sig_fields.MDPPerm.NO_CHANGES,
            reason=reason,
            location=location,
            embed_validation_info=self.long_term,
        )
        self._meta = meta
        self._pdf_signer = self._make_pdf_signer()
        self._reserved: int | None = None
        self._reserved_lock = threading.Lock()
        if timestamper is None:
            self._reserved = self._measure_reserved()
        # With a timestamp authority, the size is measured at the first signature instead: measuring
        # asks the authority for a token, and a server should start even while the TSA is down.

    def _make_pdf_signer(self, reason: str | None = None) -> signers.PdfSigner:
        meta = self._meta if reason is None else dataclasses.replace(self._meta, reason=reason)
        if self._validation_context is not None:
            # A fresh context per signature: one kept for the life of a worker would keep serving
            # the revocation data it fetched first, however old.
            meta = dataclasses.replace(meta, validation_context=self._validation_context())
        return signers.PdfSigner(meta, signer=self._signer, timestamper=self._timestamper)

    def _measure_reserved(self) -> int:
        # Left to itself, pyHanko sizes the signature by making a dummy one first, doubling the
        # cost of every signature. Size it once on a blank page: pyHanko's own estimate (with its
        # 50% margin) holds for every later PDF, since the signature container doesn't depend on it.
        blank = io.BytesIO()
        canvas = Canvas(blank)
        canvas.showPage()
        canvas.save()
        out = self._pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(blank.getvalue())))
        contents = PdfFileReader(out).embedded_signatures[0].sig_object["/Contents"]
        return len(contents) * 2  # reserved as a hex string

    @classmethod
    def from_directory(cls, directory: Path | str, **kwargs: object) -> PdfSigner:
        """Use directory/pdf-signer.{crt,pem}, generating a self-signed development pair on first run
        (again if the one there predates the DEVELOPMENT subject)."""
        directory = Path(directory)
        cert_path, key_path = directory / "pdf-signer.crt", directory / "pdf-signer.pem"
        with keys_directory_lock(directory):
            if not (cert_path.exists() and key_path.exists()) or not _says_development(cert_path):
                generate_dev_signer(directory)
        return cls(cert_path, key_path, development=True, **kwargs)  # type: ignore[arg-type]

    def sign(self, pdf: bytes, *, reason: str | None = None) -> bytes:
        """Sign the PDF; `reason` replaces the signature's stated reason for another kind of document (it is
        in the signature dictionary, not in the reserved signature contents, so the sizing holds)."""
        if self._reserved is None:
            with self._reserved_lock:
                if self._reserved is None:
                    self._reserved = self._measure_reserved() + 2048  # room for a longer TSA answer
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        fresh = self._validation_context is not None or reason is not None
        pdf_signer = self._make_pdf_signer(reason) if fresh else self._pdf_signer
        out = pdf_signer.sign_pdf(writer, bytes_reserved=self._reserved)
        return out.getvalue()

    def description(self) -> dict[str, object]:
        """What a relying party needs to recognise this signer (published on /verify and as JSON)."""
        cert = self.certificate
        return {
            "fingerprint_sha256": fingerprint(cert),
            "subject": cert.subject.human_friendly,
            "issuer": cert.issuer.human_friendly,
            "serial_number": format(cert.serial_number, "X"),
            "not_before": cert.not_valid_before.isoformat(),
            "not_after": cert.not_valid_after.isoformat(),
            "self_signed": _is_self_signed(cert),
            "development": self.development,
            "chain": [{"subject": c.subject.human_friendly, "fingerprint_sha256": fingerprint(c)}
                      for c in self.chain],
            "timestamp": self.timestamped,
            "long_term_validation": self.long_term,
        }


def _says_development(cert_path: Path) -> bool:
    cert = load_cert_from_pemder(str(cert_path))
    return "DEVELOPMENT" in cert.subject.human_friendly


def validate_signature(pdf: bytes, trust_roots: Sequence[asn1_x509.Certificate] | None = None) -> bool:
    """True if the PDF has exactly one intact, valid signature covering the whole file.

    With trust_roots, the signer's certificate must also chain to one of them (no network used).
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        sigs = reader.embedded_signatures
        if len(sigs) != 1:
            return False
        # Without trust roots only integrity is checked; trusting the embedded certificate then
        # keeps pyHanko from logging a path-building error for a self-signed one.
        roots = list(trust_roots) if trust_roots else [sigs[0].signer_cert]
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        status = validate_pdf_signature(sigs[0], context)
    except Exception:  # a damaged file is simply not a valid one
        return False
    # The whole file, or the whole file but a later revision that only adds validation data (B-LT).
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level == ModificationLevel.LTA_UPDATES)
    ok = status.intact and status.valid and whole
    return bool(ok and status.trusted)
