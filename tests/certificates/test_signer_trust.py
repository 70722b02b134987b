"""A signature a relying party can check, end to end against a throwaway PKI and timestamp authority.

The relying party's view: they trust a root (here the test root; in production a DGSSI-accredited
provider's), and nothing the PDF itself claims. The real signer's chain validates, with its timestamp;
a forger's look-alike (the signature stripped, the name edited, re-signed with a self-signed
certificate carrying the very same subject) does not, and its fingerprint differs from the published one.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from app import create_app
from certificates import keys
from certificates.pdf import DEVELOPMENT_CN, CertificateContent, PdfSigner, fingerprint, render_certificate, \
    validate_signature
from tests.certificates.pki import SIGNER_CN, ThrowawayPki, build
from tests.helpers import TEST_CONFIG


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPki:
    return build(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def content() -> CertificateContent:
    return CertificateContent(
        serial="KF-2026-000777", holder="Amina Berrada", holder_ar="أمينة برادة", holder_tfng=None,
        track_title_fr="Science des données", track_title_ar="علم البيانات", modules=[("Python", "بايثون", 40)],
        issued_on=date(2026, 11, 26), expires_on=None, verify_url="https://kafaa.ma/v/1", verification_code="ABCD-EFGH",
        issuer_name="Programme national Kafaa", domain="kafaa.ma")


@pytest.fixture(scope="module")
def real_signer(pki: ThrowawayPki) -> PdfSigner:
    cert, key = pki.write_signer(with_root=True)
    crls = pki.crls()
    context = lambda: ValidationContext(trust_roots=[pki.root], crls=crls, allow_fetching=False)  # noqa: E731
    return PdfSigner(cert, key, timestamper=pki.timestamper(), validation_context=context)


@pytest.fixture(scope="module")
def signed(real_signer: PdfSigner, content: CertificateContent) -> bytes:
    return real_signer.sign(render_certificate(content))


def relying_party_status(pdf: bytes, pki: ThrowawayPki):
    """What a relying party who trusts only the test root sees, offline (no fetching)."""
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[pki.root], crls=pki.crls(), allow_fetching=False)
    return signature, validate_pdf_signature(signature, context, ts_validation_context=context)


def test_chain_is_embedded(signed: bytes, pki: ThrowawayPki) -> None:
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    embedded = {c.dump() for c in signature.other_embedded_certs} | {signature.signer_cert.dump()}
    assert {pki.cert("signer").dump(), pki.cert("interm").dump()} <= embedded


def test_chain_validates_with_its_timestamp(signed: bytes, pki: ThrowawayPki) -> None:
    _, status = relying_party_status(signed, pki)
    assert status.bottom_line  # intact, valid, trusted, and the DocMDP rules hold
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert abs(status.timestamp_validity.timestamp - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert validate_signature(signed, [pki.root])


def test_validation_data_are_embedded_for_long_term_checks(signed: bytes, pki: ThrowawayPki) -> None:
    reader = PdfFileReader(io.BytesIO(signed))
    dss = reader.root["/DSS"]
    assert len(dss["/CRLs"]) >= 1 and len(dss["/Certs"]) >= 2  # PAdES B-LT: CRLs and chain in the DSS
    # An update that only adds validation data is allowed by the certification signature.
    _, status = relying_party_status(signed, pki)
    assert status.modification_level.name in ("NONE", "LTA_UPDATES")


def test_look_alike_forgery_is_refused(signed: bytes, pki: ThrowawayPki, content: CertificateContent,
                                       tmp_path: Path) -> None:
    """Strip the signature, edit the name, re-sign with a self-signed certificate of the same subject."""
    real = pki.cert("signer")
    subject = x509.load_der_x509_certificate(real.dump()).subject
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    forged = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
              .serial_number(real.serial_number).not_valid_before(now - timedelta(days=1))
              .not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256()))
    (tmp_path / "forged.crt").write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "forged.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    forger = PdfSigner(tmp_path / "forged.crt", tmp_path / "forged.pem", timestamper=pki.timestamper())
    forgery = forger.sign(render_certificate(replace(content, holder="Forged Name")))

    signature, status = relying_party_status(forgery, pki)
    assert signature.signer_cert.subject == real.subject  # the same name a viewer would display...
    assert status.intact and status.valid  # ...and cryptographically "fine" in itself...
    assert not status.trusted and not status.bottom_line  # ...but it does not chain to the root
    assert not validate_signature(forgery, [pki.root])
    assert fingerprint(signature.signer_cert) != fingerprint(real)  # and the published fingerprint differs


def test_signer_without_root_in_chain_stays_b_t(pki: ThrowawayPki, content: CertificateContent) -> None:
    cert, key = pki.write_signer(with_root=False)
    signer = PdfSigner(cert, key, timestamper=pki.timestamper())
    pdf = signer.sign(render_certificate(content))
    assert "/DSS" not in PdfFileReader(io.BytesIO(pdf)).root
    _, status = relying_party_status(pdf, pki)
    assert status.bottom_line and status.timestamp_validity.trusted
    assert signer.description()["timestamp"] and not signer.description()["long_term_validation"]


def test_a_chain_in_pdf_signer_cert_is_loaded_in_any_order(pki: ThrowawayPki, tmp_path: Path) -> None:
    from asn1crypto import pem

    reversed_chain = tmp_path / "reversed.pem"
    reversed_chain.write_bytes(b"".join(pem.armor("CERTIFICATE", pki.cert(label).dump())
                                        for label in ("root", "interm", "signer")))
    signer = PdfSigner(reversed_chain, pki.directory / "signer.key.pem")
    assert signer.certificate.dump() == pki.cert("signer").dump()
    assert [c.subject.human_friendly for c in signer.chain] == [pki.root.subject.human_friendly,
                                                                pki.cert("interm").subject.human_friendly]
    described = signer.description()
    assert SIGNER_CN in described["subject"] and not described["development"] and not described["self_signed"]


def test_a_key_that_matches_no_certificate_is_refused(pki: ThrowawayPki) -> None:
    cert, _ = pki.write_signer(with_root=True)  # written here: under xdist no other test may have run first
    with pytest.raises(ValueError, match="matches the private key"):
        PdfSigner(cert, pki.directory / "tsa.key.pem")


# --- the app: configuration, refusal to start, published fingerprint ------------------------------


def test_app_signs_with_the_configured_chain_and_publishes_its_fingerprint(pki: ThrowawayPki, tmp_path: Path,
                                                                          database_url: str) -> None:
    cert, key = pki.write_signer(with_root=True)
    app = create_app({**TEST_CONFIG, "PDF_SIGNER_DEVELOPMENT": False, "PDF_SIGNER_CERT": str(cert),
                      "PDF_SIGNER_KEY": str(key), "DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path / "k")})
    client = app.test_client()
    published = client.get("/.well-known/kafaa-signer.json")
    assert published.status_code == 200 and published.headers["Access-Control-Allow-Origin"] == "*"
    body = published.json
    assert body["fingerprint_sha256"] == fingerprint(pki.cert("signer"))
    assert body["development"] is False and body["timestamp"] is False
    assert SIGNER_CN in body["subject"] and "Test Qualified Signing CA" in body["issuer"]
    assert len(body["chain"]) == 2
    page = client.get("/verify", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert body["fingerprint_sha256"] in page and "development certificate" not in page
    with app.app_context():
        pdf = keys.pdf_signer().sign(render_certificate(CertificateContent(
            serial="KF-1", holder="A", holder_ar="ا", holder_tfng=None, track_title_fr="T", track_title_ar="ت",
            modules=[], issued_on=date(2026, 1, 1), expires_on=None, verify_url="https://kafaa.test/v/1",
            verification_code="ABCD-EFGH", issuer_name="K", domain="kafaa.test")))
    assert validate_signature(pdf, [pki.root])


def test_https_without_a_signer_refuses_to_start(tmp_path: Path) -> None:
    config = {**TEST_CONFIG, "PDF_SIGNER_DEVELOPMENT": False, "KEYS_DIR": str(tmp_path),
              "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    with pytest.raises(keys.SignerNotConfigured, match="PDF_SIGNER_CERT"):
        create_app(config)
    with pytest.raises(keys.SignerNotConfigured, match="go together"):
        create_app({**config, "PDF_SIGNER_CERT": str(tmp_path / "x.pem")})
    with pytest.raises(keys.SignerNotConfigured, match="not found"):
        create_app({**config, "PDF_SIGNER_CERT": str(tmp_path / "x.pem"), "PDF_SIGNER_KEY": str(tmp_path / "y")})
    create_app({**config, "BASE_URL": "http://127.0.0.1:5000"})  # `make run`: plain http, development


def test_refusal_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"TESTING": True, "SECRET_KEY": "x", "KEYS_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    monkeypatch.setenv("BASE_URL", "https://kafaa.example")
    with pytest.raises(keys.SignerNotConfigured):
        create_app(base)
    monkeypatch.setenv("PDF_SIGNER_DEVELOPMENT", "1")
    assert create_app(base).config["PDF_SIGNER_DEVELOPMENT"] is True
    monkeypatch.setenv("PDF_SIGNER_DEVELOPMENT", "0")
    with pytest.raises(keys.SignerNotConfigured):
        create_app(base)


def test_development_signer_says_so_everywhere(client) -> None:
    body = client.get("/.well-known/kafaa-signer.json").json
    assert body["development"] is True and DEVELOPMENT_CN in body["subject"] and body["self_signed"] is True
    page = client.get("/verify", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert body["fingerprint_sha256"] in page and "development certificate" in page
    assert json.loads(client.get("/.well-known/kafaa-signer.json").data) == body


def test_old_development_signer_is_replaced_by_one_that_says_so(tmp_path: Path) -> None:
    from certificates.pdf import generate_dev_signer

    generate_dev_signer(tmp_path, common_name="Kafaa (développement)")
    signer = PdfSigner.from_directory(tmp_path)
    assert DEVELOPMENT_CN in signer.certificate.subject.human_friendly and signer.development
