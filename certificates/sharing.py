"""What a holder shares of a valid certificate: its verification link, its code, and LinkedIn's "Add to
profile" link prefilled with the certificate's facts ("My certificates")."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from certificates.models import Certificate
from certificates.rules import linkedin_add_url
from certificates.signing import verify_url


@dataclass(frozen=True)
class Sharing:
    verify_url: str
    code: str
    linkedin_url: str


def sharing(certificate: Certificate, language: str) -> Sharing:
    """The links in `language`: the certification's name and issuer as the certificate states them (its
    frozen content), the link anyone can open (BASE_URL/v/...) and the serial as the certificate's id."""
    url = verify_url(current_app.config["BASE_URL"], certificate.token)
    content = certificate.content
    return Sharing(url, certificate.verification_code, linkedin_add_url(
        name=content.title(language), organization=content.issuer_name(language), issued_on=certificate.issued_on,
        expires_on=certificate.expires_on, cert_url=url, cert_id=certificate.serial))
