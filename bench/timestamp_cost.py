"""What an RFC 3161 timestamp adds to a PAdES signature, with an in-process authority (certomancer):
the local cost only (asking, embedding, and for B-LT the validation data); a real TSA adds its round trip.

    .venv/bin/python -m bench timestamp_cost [N]     (N certificates, 60 by default)
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import logging

from pyhanko_certvalidator import ValidationContext

from certificates.pdf import CertificateContent, PdfSigner, render_certificate
from tests.certificates.pki import build


def _content(i: int) -> CertificateContent:
    return CertificateContent(
        serial=f"KF-2026-{i:06d}", holder=f"Fatima-Zahra El Amrani {i}", holder_ar="فاطمة الزهراء العمراني",
        holder_tfng=None, track_title_fr="Science des données", track_title_ar="علم البيانات",
        modules=[("Python", "بايثون", 40), ("Apprentissage automatique", "التعلم الآلي", 50)],
        issued_on=date(2026, 11, 26), expires_on=None, verify_url="https://kafaa.ma/v/" + "7" * 300,
        verification_code="ABCD-EFGH", issuer_name="Programme national Kafaa", domain="kafaa.ma")


def main(argv: list[str] | None = None) -> None:
    """The benchmark runner's entry point (python -m bench): `argv` may name how many certificates to sign."""
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 60
    logging.getLogger("pyhanko.sign.signers.pdf_signer").setLevel(logging.ERROR)  # "fetching is not allowed": by design
    pki = build(Path(tempfile.mkdtemp()) / "pki")
    cert, key = pki.write_signer(with_root=True)
    crls = pki.crls()
    signers = {
        "B-B (no timestamp)": PdfSigner(cert, key),
        "B-T (timestamp)": PdfSigner(cert, key, timestamper=pki.timestamper()),
        "B-LT (timestamp + CRLs in DSS)": PdfSigner(
            cert, key, timestamper=pki.timestamper(),
            validation_context=lambda: ValidationContext(trust_roots=[pki.root], crls=crls, allow_fetching=False)),
    }
    pdfs = [render_certificate(_content(i)) for i in range(n)]
    for signer in signers.values():
        signer.sign(pdfs[0])  # warm up (sizes the signature)
    times: dict[str, list[float]] = {name: [] for name in signers}
    for round_ in range(3):  # interleaved rounds: the machine's speed drifts
        for name, signer in signers.items():
            start = time.perf_counter()
            for pdf in pdfs[round_::3]:
                signer.sign(pdf)
            times[name].append((time.perf_counter() - start) / len(pdfs[round_::3]) * 1000)
    base = statistics.median(times["B-B (no timestamp)"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:34} {median:6.1f} ms a signature  ({median / base:.2f}x B-B)  rounds: "
              + ", ".join(f"{v:.1f}" for v in values))


if __name__ == "__main__":
    main()
