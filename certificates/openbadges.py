"""Certificates as Open Badges 3.0 credentials (W3C Verifiable Credentials of type OpenBadgeCredential),
the issuer profile they point to and the revocation status list that wallets check.

Proof format: the JSON Web Token proof of Open Badges 3.0 (section 8.2, "VC-JWT"). The credential is the
JWT payload, with the registered claims iss, jti, nbf, sub (and exp when it expires); the compact JWS is
signed with the issuer's current Ed25519 key (alg EdDSA, RFC 8037). The JOSE header holds only what the
specification allows: alg, kid (a URL on this site that dereferences to the public JWK), jwk (that same
public key, for verifiers that do not fetch) and typ "JWT". Ed25519 signatures are deterministic and the
credential is built from stored data only, so downloading twice gives the same bytes (until the key rotates
or the track's modules change).

The credential text is French, the language of the registry's record (like the PDF): it is signed content,
so it must not change with the language of whoever downloads it.

Status: each credential has a BitstringStatusListEntry (W3C Bitstring Status List v1.0) whose index is
the certificate's id in one revocation list for the whole registry, served signed like the credentials.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from certificates import keys
from certificates.models import Certificate
from certificates.signing import public_jwk
from common import clock
from common.extensions import db
from skills.models import Track

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
ISSUER_SLUG = "kafaa"
# The Bitstring Status List minimum (16 KB): a short list would tell how many certificates exist.
STATUS_LIST_MIN_BITS = 131_072
JOSE_ALG = "EdDSA"


# --- addresses ----------------------------------------------------------------------------------------

def _base() -> str:
    return current_app.config["BASE_URL"]


def issuer_id() -> str:
    return f"{_base()}/issuers/{ISSUER_SLUG}"


def key_url(kid: str) -> str:
    """The JOSE `kid`: a URL that dereferences to the public JWK of that key."""
    return f"{issuer_id()}/keys/{kid}"


def achievement_id(track_code: str) -> str:
    return f"{_base()}/achievements/{track_code}"


def credential_id(serial: str) -> str:
    return f"{_base()}/credentials/{serial}"


def status_list_id() -> str:
    return f"{_base()}/credentials/status/revocation"


# --- documents ----------------------------------------------------------------------------------------

def issuer_profile() -> dict[str, Any]:
    return {"id": issuer_id(), "type": ["Profile"], "name": current_app.config["ISSUER_NAME"], "url": _base()}


def issuer_document() -> dict[str, Any]:
    """The issuer profile published at its own id."""
    return {"@context": [VC_CONTEXT, OB_CONTEXT], **issuer_profile()}


def _hours(value: Decimal | float) -> str:
    """French notation: 6 -> "6", 1.5 -> "1,5"."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


def _percent(ratio: Decimal | float) -> str:
    return _hours(Decimal(str(ratio)) * 100)


def achievement(track: Track) -> dict[str, Any]:
    modules = list(track.modules)
    total = sum((Decimal(str(m.hours)) for m in modules), Decimal(0))
    lines = [f"- {m.code} — {m.title_fr} ({_hours(m.hours)} h)" for m in modules]
    narrative = "\n".join([
        "Réussir chacun des modules du parcours :", *lines,
        f"soit {_hours(total)} heures de formation.",
        f"Avoir suivi au moins {_percent(track.min_attendance)} % des séances (présences et retards comptent, "
        "les absences excusées ne sont pas comptées).",
    ])
    return {
        "id": achievement_id(track.code),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "humanCode": track.code,
        "name": track.title_fr,
        "description": (f"Certificat du parcours « {track.title_fr} » du programme national Kafaa : "
                        f"{len(modules)} modules, {_hours(total)} heures de formation."),
        "criteria": {"narrative": narrative},
        "creator": issuer_profile(),
    }


def achievement_document(track: Track) -> dict[str, Any]:
    return {"@context": [VC_CONTEXT, OB_CONTEXT], **achievement(track)}


def _salt(certificate: Certificate) -> str:
    """A salt of this certificate alone, stable (the credential is reproducible) and published in it anyway.
    Derived from the certificate's signed token, so two certificates of one person do not share a hash."""
    return hashlib.sha256(b"kafaa-ob3-salt\x00" + certificate.token.encode()).hexdigest()[:32]


def identity_hash(email: str, salt: str) -> str:
    """Open Badges IdentityHash: "sha256$" + hex SHA-256 of the identity followed by the salt (UTF-8)."""
    return "sha256$" + hashlib.sha256((email + salt).encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def valid_until(expires_on: date) -> datetime:
    """The last second of the expiry day in Morocco (a certificate is valid through expires_on)."""
    return _utc(datetime.combine(expires_on, time(23, 59, 59), tzinfo=clock.MOROCCO))


def credential(certificate: Certificate) -> dict[str, Any]:
    """The OpenBadgeCredential of a certificate, before signing."""
    salt = _salt(certificate)
    own_id = credential_id(certificate.serial)
    body: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": own_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(),
        "validFrom": _iso(_utc(certificate.issued_at)),
    }
    if certificate.expires_on is not None:
        body["validUntil"] = _iso(valid_until(certificate.expires_on))
    body["name"] = certificate.track.title_fr
    body["credentialSubject"] = {
        # An opaque id for this credential's subject (the JWT `sub`); who it is lies in `identifier`.
        "id": uuid.uuid5(uuid.NAMESPACE_URL, own_id + "#subject").urn,
        "type": ["AchievementSubject"],
        "identifier": [
            {"type": "IdentityObject", "identityHash": identity_hash(certificate.trainee.email, salt),
             "identityType": "emailAddress", "hashed": True, "salt": salt},
            # The name is printed on the certificate and shown by the public verification page already.
            {"type": "IdentityObject", "identityHash": certificate.holder, "identityType": "name", "hashed": False},
        ],
        "achievement": achievement(certificate.track),
    }
    body["credentialStatus"] = {
        "id": f"{status_list_id()}#{certificate.id}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(certificate.id),
        "statusListCredential": status_list_id(),
    }
    body["credentialSchema"] = [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}]
    return body


# --- VC-JWT -------------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _epoch(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def jwt_claims(vc: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload (Open Badges 3.0, 8.2.4.1): the credential itself, plus iss = issuer.id, jti = id,
    sub = credentialSubject.id, nbf = validFrom and, when it expires, exp = validUntil."""
    issuer = vc["issuer"]["id"] if isinstance(vc["issuer"], dict) else vc["issuer"]
    claims = {**vc, "iss": issuer, "jti": vc["id"], "sub": vc["credentialSubject"]["id"], "nbf": _epoch(vc["validFrom"])}
    if "validUntil" in vc:
        claims["exp"] = _epoch(vc["validUntil"])
    return claims


def sign_jwt(vc: dict[str, Any]) -> str:
    """The credential as a compact JWS signed with the current issuer key."""
    store = keys.keystore()
    payload = b64url(_json(jwt_claims(vc)))
    for attempt in (1, 2):
        kid = store.current_kid
        public = store.public_keys()[kid]
        header = {"alg": JOSE_ALG, "kid": key_url(kid), "jwk": public_jwk(kid, public), "typ": "JWT"}
        signing_input = f"{b64url(_json(header))}.{payload}"
        try:
            _, signature = store.sign(signing_input.encode("ascii"), kid=kid)
        except LookupError:  # the key was rotated between reading its id and signing: once more
            if attempt == 2:
                raise
            continue
        return f"{signing_input}.{b64url(signature)}"
    raise AssertionError("unreachable")


def signed_credential(certificate: Certificate) -> tuple[dict[str, Any], str]:
    vc = credential(certificate)
    return vc, sign_jwt(vc)


# --- revocation status list ---------------------------------------------------------------------------

def encode_status_list(indexes: Iterable[int], highest: int | None) -> str:
    """Multibase base64url (prefix "u", no padding) of the GZIP-compressed bitstring where bit i, counted
    from the most significant bit of the first byte, is set for every index given. The list covers
    `highest` and is a whole number of 16 KB blocks, so its length says little about the registry."""
    bits = STATUS_LIST_MIN_BITS * max(1, -(-((highest or 0) + 1) // STATUS_LIST_MIN_BITS))
    bitstring = bytearray(bits // 8)
    for index in indexes:
        bitstring[index >> 3] |= 0x80 >> (index & 7)
    return "u" + b64url(gzip.compress(bytes(bitstring), mtime=0))


def status_list_credential() -> dict[str, Any]:
    """The revocation list of every certificate, as of now. A superseded certificate (reissued with a corrected
    name, or renewed) is set too: its credential must stop being accepted, and the new one replaces it."""
    revoked = db.session.scalars(sa.select(Certificate.id).where(
        sa.or_(Certificate.revoked_at.is_not(None), Certificate.superseded_at.is_not(None)))).all()
    highest = db.session.scalar(sa.select(sa.func.max(Certificate.id)))
    own_id = status_list_id()
    return {
        "@context": [VC_CONTEXT],
        "id": own_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(),
        "validFrom": _iso(_utc(clock.now())),
        "credentialSubject": {
            "id": f"{own_id}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_status_list(revoked, highest),
        },
    }

