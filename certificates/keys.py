"""The process's issuer keys and PDF signer, loaded once and shared by every request, job and app
built in this process (tests build many apps on the same keys)."""
from __future__ import annotations

from pathlib import Path
from threading import Lock

from flask import current_app

from certificates.pdf import PdfSigner
from certificates.signing import KeyStore

_lock = Lock()
_loaded: dict[tuple, object] = {}


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


def pdf_signer() -> PdfSigner:
    """The configured X.509 certificate and key (PDF_SIGNER_CERT, PDF_SIGNER_KEY), or a self-signed
    development pair generated into KEYS_DIR on first use."""
    config = current_app.config
    cert, key, directory = config.get("PDF_SIGNER_CERT"), config.get("PDF_SIGNER_KEY"), config["KEYS_DIR"]

    def build() -> PdfSigner:
        if cert and key:
            password = config.get("PDF_SIGNER_KEY_PASSWORD")
            return PdfSigner(cert, key, key_password=password.encode() if password else None)
        return PdfSigner.from_directory(Path(directory))
    return _once(("pdf_signer", cert, key, None if cert and key else directory), build)
