"""The process's issuer keys and PDF signer, loaded once and shared by every request, job and app
built in this process (tests build many apps on the same keys)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from threading import Lock
from typing import Any

from flask import current_app
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from certificates.pdf import PdfSigner
from certificates.signing import KeyStore

_lock = Lock()
_loaded: dict[tuple, object] = {}


class SignerNotConfigured(RuntimeError):
    """The PDF signer settings cannot make trustworthy signatures: the app refuses to start."""


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def check_signer_settings(config: Mapping[str, Any]) -> None:
    """Called by the factory. A public (https) instance signs with a real certificate, unless someone
    said explicitly that this one is for development: a generated, self-signed signer proves nothing
    to a relying party, and a forger can make a look-alike in a minute."""
    cert, key = config.get("PDF_SIGNER_CERT"), config.get("PDF_SIGNER_KEY")
    if bool(cert) != bool(key):
        raise SignerNotConfigured("PDF_SIGNER_CERT and PDF_SIGNER_KEY go together: set both, or neither.")
    if cert:
        for path in (cert, key):
            if not Path(path).is_file():
                raise SignerNotConfigured(f"PDF signer file not found: {path}")
        return
    if str(config.get("BASE_URL", "")).startswith("https://") and not _truthy(
            config.get("PDF_SIGNER_DEVELOPMENT")):
        raise SignerNotConfigured(
            "BASE_URL is https but no PDF signer is configured: set PDF_SIGNER_CERT (the certificate and its "
            "chain, PEM) and PDF_SIGNER_KEY, see docs/operations.md. For a test or staging instance only, "
            "PDF_SIGNER_DEVELOPMENT=1 accepts a generated, self-signed development signer.")


def _once(key: tuple, build):
    if key not in _loaded:
        with _lock:
            if key not in _loaded:
                _loaded[key] = build()
    return _loaded[key]


def keystore() -> KeyStore:
    directory = Path(current_app.config["KEYS_DIR"])

    def build() -> KeyStore:
        store = KeyStore(directory)
        store.ensure()
        return store
    return _once(("keystore", str(directory)), build)


def _long_term_context(cert_path: str):
    """B-LT needs the path up to a root: when PDF_SIGNER_CERT carries its root (a self-signed
    certificate at the end of the chain), revocation data are fetched from the addresses in the
    certificates at each signature and embedded. Without the root there is nothing to anchor them to,
    and the signature stays at B-T."""
    roots = [c for c in load_certs_from_pemder([cert_path]) if c.self_signed in ("maybe", "yes")]
    if not roots:
        return None
    return lambda: ValidationContext(trust_roots=roots, allow_fetching=True)


def pdf_signer() -> PdfSigner:
    """The configured X.509 certificate, chain and key (PDF_SIGNER_CERT, PDF_SIGNER_KEY), or a
    self-signed development pair generated into KEYS_DIR on first use; with TSA_URL, timestamped."""
    config = current_app.config
    cert, key, directory = config.get("PDF_SIGNER_CERT"), config.get("PDF_SIGNER_KEY"), config["KEYS_DIR"]
    tsa = config.get("TSA_URL") or None

    def build() -> PdfSigner:
        timestamper = HTTPTimeStamper(tsa, timeout=10) if tsa else None
        if cert and key:
            password = config.get("PDF_SIGNER_KEY_PASSWORD")
            return PdfSigner(cert, key, key_password=password.encode() if password else None,
                             timestamper=timestamper,
                             validation_context=_long_term_context(cert) if timestamper else None)
        return PdfSigner.from_directory(Path(directory), timestamper=timestamper)
    return _once(("pdf_signer", cert, key, None if cert and key else directory, tsa), build)
