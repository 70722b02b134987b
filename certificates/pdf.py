"""Certificate PDF: A4 landscape, French and Arabic, drawn with reportlab; PAdES-signed with pyHanko."""

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
from common.printed_dates import date_ar as _date_ar, date_fr as _date_fr
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from . import fonts
from .qr import QUIET_ZONE, draw_qr, make_qr
from .signing import keys_directory_lock

PAGE_W, PAGE_H = landscape(A4)
QR_SIZE = 30 / 25.4 * 72  # 3 cm
MARGIN = 56.0
GREEN = HexColor("#0B6E4F")
GREY = HexColor("#555555")
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
    issuer_name_ar: str = ""  # drawn under issuer_name when given




def _hours(h: float) -> str:
    return f"{h:g}"


def _line(c: Canvas, text: str, x: float, y: float, size: float, max_width: float, *,
          align: str = "left", bold: bool = False) -> None:
    fonts.draw_fitted(c, text, x, y, size, max_width, align=align, bold=bold)


def render_certificate(content: CertificateContent, *, revoked: bool = False) -> bytes:
    """Draw the certificate and return unsigned PDF bytes (sign them with PdfSigner.sign)."""
    fonts.register_fonts()
    buf = io.BytesIO()
    # The initial font is one of ours, so no unembedded Helvetica is referenced; the document's main
    # language is French as written in Morocco (the Arabic lines are its translation).
    c = Canvas(buf, pagesize=(PAGE_W, PAGE_H), pageCompression=1, lang=DOCUMENT_LANG,
               initialFontName=fonts.LATIN)
    c.setTitle(f"Certificat de formation {content.serial} — {content.holder}")
    c.setViewerPreference("DisplayDocTitle", "true")
    c.setAuthor(content.issuer_name)
    c.setSubject(f"{content.holder} — {content.track_title_fr}")

    # Frame
    c.setStrokeColor(GREEN)
    c.setLineWidth(3)
    c.rect(24, 24, PAGE_W - 48, PAGE_H - 48)
    c.setLineWidth(0.8)
    c.rect(30, 30, PAGE_W - 60, PAGE_H - 60)

    left, right, mid = MARGIN, PAGE_W - MARGIN, PAGE_W / 2
    half = mid - MARGIN - 20  # width of a French or Arabic column

    # Header: issuer, then the title in both languages, French on the left, Arabic on the right.
    c.setFillColor(GREY)
    _line(c, content.issuer_name, mid, PAGE_H - 62, 11, PAGE_W - 2 * MARGIN, align="center")
    if content.issuer_name_ar:
        _line(c, content.issuer_name_ar, mid, PAGE_H - 78, 11, PAGE_W - 2 * MARGIN, align="center")
    c.setFillColor(GREEN)
    _line(c, "Certificat de formation", left, PAGE_H - 115, 24, half, bold=True)
    _line(c, "شهادة التكوين", right, PAGE_H - 115, 24, half, align="right")

    # Holder names, centred: Latin, Arabic, Tifinagh.
    c.setFillColor(GREY)
    _line(c, "décerné à", left, PAGE_H - 150, 11, half)
    _line(c, "تُمنح إلى", right, PAGE_H - 150, 11, half, align="right")
    c.setFillColorRGB(0, 0, 0)
    y = PAGE_H - 182
    _line(c, content.holder, mid, y, 28, PAGE_W - 2 * MARGIN, align="center", bold=True)
    y -= 34
    _line(c, content.holder_ar, mid, y, 24, PAGE_W - 2 * MARGIN, align="center")
    if content.holder_tfng:
        y -= 28
        _line(c, content.holder_tfng, mid, y, 18, PAGE_W - 2 * MARGIN, align="center")

    # Track
    y -= 34
    c.setFillColor(GREY)
    _line(c, "pour avoir suivi avec succès le parcours", left, y, 11, half)
    _line(c, "لإتمامه بنجاح مسار", right, y, 11, half, align="right")
    y -= 19
    c.setFillColorRGB(0, 0, 0)
    _line(c, content.track_title_fr, left, y, 15, half, bold=True)
    _line(c, content.track_title_ar, right, y, 15, half, align="right")

    # Modules: French title | hours | Arabic title, above the QR block.
    y -= 26
    floor = 150.0
    rows = len(content.modules) + 1
    step = min(15.0, (y - floor) / max(rows, 1))
    size = min(10.0, step * 0.72)
    c.setFillColor(GREEN)
    _line(c, "Modules", left, y, size, half - 40, bold=True)
    _line(c, "Heures · الساعات", mid, y, size, 120, align="center", bold=True)
    _line(c, "الوحدات", right, y, size, half - 40, align="right", bold=True)
    c.setStrokeColor(GREEN)
    c.setLineWidth(0.5)
    c.line(left, y - 4, right, y - 4)
    c.setFillColorRGB(0, 0, 0)
    total = 0.0
    for title_fr, title_ar, hours in content.modules:
        y -= step
        total += hours
        _line(c, title_fr, left, y, size, half - 40)
        _line(c, _hours(hours), mid, y, size, 80, align="center")
        _line(c, title_ar, right, y, size, half - 40, align="right")
    y -= step
    _line(c, f"Total : {_hours(total)} h", left, y, size, half - 40, bold=True)
    _line(c, f"المجموع: {_hours(total)} ساعة", right, y, size, half - 40, align="right")

    # Dates and issuer, bottom left.
    c.setFillColorRGB(0, 0, 0)
    fr = f"Délivré le {_date_fr(content.issued_on)}"
    ar = f"سُلّمت بتاريخ {_date_ar(content.issued_on)}"
    if content.expires_on:
        fr += f" · valable jusqu'au {_date_fr(content.expires_on)}"
        ar += f"، صالحة إلى غاية {_date_ar(content.expires_on)}"
    qr_x = right - QR_SIZE
    text_w = qr_x - left - 150
    _line(c, fr, left, 112, 10, text_w)
    _line(c, ar, left + text_w, 96, 10, text_w, align="right")
    c.setFillColor(GREY)
    _line(c, "Document signé électroniquement : toute modification invalide la signature.",
          left, 68, 8, text_w)
    _line(c, "وثيقة موقعة إلكترونيا: كل تعديل يبطل التوقيع.", left + text_w, 56, 8, text_w, align="right")

    # QR block, bottom right: domain beside it, serial and code under it.
    qr_y = 68.0
    qr = make_qr(content.verify_url)
    draw_qr(c, qr, qr_x, qr_y, QR_SIZE)
    quiet = QUIET_ZONE * QR_SIZE / len(qr.matrix)
    beside = qr_x - quiet - 2
    c.setFillColor(GREY)
    _line(c, "Vérifier sur", beside, qr_y + QR_SIZE - 10, 8, 120, align="right")
    _line(c, "تحقق على", beside, qr_y + QR_SIZE - 22, 8, 120, align="right")
    c.setFillColorRGB(0, 0, 0)
    _line(c, content.domain, beside, qr_y + QR_SIZE - 38, 11, 130, align="right", bold=True)
    centre = qr_x + QR_SIZE / 2
    _line(c, content.serial, centre, qr_y - quiet - 8, 8, QR_SIZE + 40, align="center")
    _line(c, content.verification_code, centre, qr_y - quiet - 20, 10, QR_SIZE + 40,
          align="center", bold=True)

    if revoked:
        _draw_revoked(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def _draw_revoked(c: Canvas) -> None:
    c.saveState()
    c.setFillColor(RED)
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(24)
    fonts.draw_text(c, "RÉVOQUÉ · REVOKED", 0, 10, 64, align="center", bold=True)
    fonts.draw_text(c, "ملغاة", 0, -60, 56, align="center")
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

    def _make_pdf_signer(self) -> signers.PdfSigner:
        meta = self._meta
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

    def sign(self, pdf: bytes) -> bytes:
        if self._reserved is None:
            with self._reserved_lock:
                if self._reserved is None:
                    self._reserved = self._measure_reserved() + 2048  # room for a longer TSA answer
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        pdf_signer = self._pdf_signer if self._validation_context is None else self._make_pdf_signer()
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
