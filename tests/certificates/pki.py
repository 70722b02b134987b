"""A throwaway PKI for tests, built in-process with certomancer: a root, an intermediate, the PDF
signer under it, a timestamp authority under the root, and CRLs for both CAs. No network."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from certomancer.registry import CertomancerConfig, PKIArchitecture
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign import timestamps

VALIDITY = {"valid-from": "2020-01-01T00:00:00+0000", "valid-to": "2100-01-01T00:00:00+0000"}
SIGNER_CN = "Programme national Kafaa — signature des certificats"


def _key_usage(*usages: str) -> dict:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _crl_points(repo: str) -> dict:
    return {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                             "params": {"crl-repo-names": [repo]}}}


def _config(key_dir: Path) -> dict:
    keys = {}
    for name in ("root", "interm", "signer", "tsa"):
        key = ec.generate_private_key(ec.SECP256R1())
        path = key_dir / f"{name}.key.pem"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        keys[name] = {"path": path.name}
    ca = {"id": "basic_constraints", "critical": True, "value": {"ca": True}}
    return {
        "external-url-prefix": "http://pki.kafaa.test",
        "keysets": {"kafaa-test": {"keys": keys}},
        "pki-architectures": {"kafaa-test": {
            "keyset": "kafaa-test",
            "entity-defaults": {"country-name": "MA", "organization-name": "Test Trust Services"},
            "entities": {
                "root": {"common-name": "Test Root CA"},
                "interm": {"common-name": "Test Qualified Signing CA"},
                "signer": {"common-name": SIGNER_CN, "organization-name": "Programme national Kafaa"},
                "tsa": {"common-name": "Test Time Stamping Authority"},
            },
            "certs": {
                "root": {"subject": "root", "issuer": "root", "validity": VALIDITY,
                         "extensions": [ca, _key_usage("digital_signature", "key_cert_sign", "crl_sign")]},
                "interm": {"subject": "interm", "issuer": "root", "validity": VALIDITY,
                           "extensions": [ca, _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
                                          _crl_points("root")]},
                "signer": {"subject": "signer", "issuer": "interm", "validity": VALIDITY,
                           "extensions": [_key_usage("digital_signature", "non_repudiation"),
                                          _crl_points("interm")]},
                "tsa": {"subject": "tsa", "issuer": "root", "validity": VALIDITY,
                        "extensions": [_key_usage("digital_signature"), _crl_points("root"),
                                       {"id": "extended_key_usage", "critical": True,
                                        "value": ["time_stamping"]}]},
            },
            "services": {
                "crl-repo": {
                    "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P90D"},
                    "interm": {"for-issuer": "interm", "signing-key": "interm",
                               "simulated-update-schedule": "P30D"},
                },
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
            },
        }},
    }


@dataclass
class ThrowawayPki:
    arch: PKIArchitecture
    directory: Path

    def cert(self, label: str) -> asn1_x509.Certificate:
        return self.arch.get_cert(label)

    @property
    def root(self) -> asn1_x509.Certificate:
        return self.cert("root")

    def write_signer(self, *, with_root: bool = True) -> tuple[Path, Path]:
        """PDF_SIGNER_CERT (leaf, intermediate[, root], PEM) and PDF_SIGNER_KEY files."""
        labels = ["signer", "interm"] + (["root"] if with_root else [])
        pem = b"".join(_pem(self.cert(label)) for label in labels)
        cert_path = self.directory / ("chain-root.pem" if with_root else "chain.pem")
        cert_path.write_bytes(pem)
        return cert_path, self.directory / "signer.key.pem"

    def timestamper(self) -> InProcessTimeStamper:
        """An RFC 3161 authority answering in-process: certomancer's TSA service behind pyHanko's client
        interface (pyHanko's own DummyTimeStamper only signs with RSA keys)."""
        return InProcessTimeStamper(self.arch.service_registry.summon_timestamper("tsa"))

    def crls(self) -> list:
        return [self.arch.service_registry.get_crl(repo) for repo in ("root", "interm")]


class InProcessTimeStamper(timestamps.TimeStamper):
    def __init__(self, service) -> None:
        super().__init__()
        self._service = service
        self.requests = 0

    async def async_request_tsa_response(self, req):
        self.requests += 1
        return self._service.request_tsa_response(req)


def _pem(cert: asn1_x509.Certificate) -> bytes:
    from asn1crypto import pem

    return pem.armor("CERTIFICATE", cert.dump())


def build(directory: Path) -> ThrowawayPki:
    directory.mkdir(parents=True, exist_ok=True)
    config = CertomancerConfig(_config(directory), key_search_dir=str(directory))
    return ThrowawayPki(arch=config.get_pki_arch("kafaa-test"), directory=directory)
