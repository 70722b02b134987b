"""Certificates as Open Badges 3.0 credentials (W3C Verifiable Credentials of type OpenBadgeCredential),
the issuer profile they point to and the revocation status list that wallets check.

Proof format: the JSON Web Token proof of Open Badges 3.0 (section 8.2, "VC-JWT"). The credential is the
JWT payload, with the registered claims iss, jti, nbf, sub (and exp when it expires); the compact JWS is
signed with the issuer's current Ed25519 key (alg EdDSA, RFC 8037). The JOSE header holds only what the
specification allows: alg, kid (a URL on this site that dereferences to the public JWK), jwk (that same
public key, for verifiers that do not fetch) and typ, which names the media type the JWS is served as: "JWT"
(Open Badges 3.0, 8.2.3) for application/jwt, text/plain and the JSON wrapper, "vc+jwt" when a client asks
for application/vc+jwt (VC-JOSE-COSE). Ed25519 signatures are deterministic and the credential is built from
stored data only — the content certified at issue, never today's catalogue — so downloading twice gives the
same bytes (until the key rotates).

The credential text is French, the language of the registry's record (like the PDF): it is signed content,
so it must not change with the language of whoever downloads it.

Status (W3C Bitstring Status List v1.0): each credential has two BitstringStatusListEntry, at the same
index of two lists for the whole registry, served signed like the credentials:
- /credentials/status/revocation (statusPurpose "revocation"): set when the certificate is revoked. A
  revocation is not reversible there: lifting one retires the index (its bit stays set) and the certificate
  gets a new one, carried by credentials fetched from then on.
- /credentials/status/message (statusPurpose "message", statusSize 1, with its statusMessage): set when the
  certificate was superseded (a corrected name, a renewal). Superseded is not revoked: the achievement stands
  and wallets must not call it revoked; not a "suspension" either, which the recommendation defines as
  temporary and reversible. See docs/rules.md.
The index is drawn at random among never used ones, in lists of at least 131,072 entries (the
recommendation's privacy advice): it tells nothing about how many certificates exist, nor which.
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
from certificates.models import Certificate, RetiredStatusIndex
from certificates.rules import STATUS_LIST_MIN_BITS, Certified, status_list_size
from certificates.signing import public_jwk
from common import clock
from common.extensions import db

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
ISSUER_SLUG = "kafaa"
JOSE_ALG = "EdDSA"
STATUS_PURPOSES = ("revocation", "message")
# The "message" list: what its one bit means (Bitstring Status List v1.0, statusMessage).
SUPERSEDED_MESSAGES = [{"status": "0x0", "message": "current"},
                       {"status": "0x1", "message": "superseded: the issuer replaced this certificate with a newer one"}]


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


def status_list_id(purpose: str = "revocation") -> str:
    return f"{_base()}/credentials/status/{purpose}"


# --- documents ----------------------------------------------------------------------------------------

def issuer_profile(name: str | None = None) -> dict[str, Any]:
    """The issuer profile; `name` as printed on a certificate (certified), by default as configured now."""
    return {"id": issuer_id(), "type": ["Profile"], "name": name or current_app.config["ISSUER_NAME"], "url": _base()}


def issuer_document() -> dict[str, Any]:
    """The issuer profile published at its own id."""
    return {"@context": [VC_CONTEXT, OB_CONTEXT], **issuer_profile()}


def _hours(value: Decimal | float) -> str:
    """French notation: 6 -> "6", 1.5 -> "1,5"."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


def _percent(ratio: Decimal | float) -> str:
    return _hours(Decimal(str(ratio)) * 100)


def achievement(content: Certified) -> dict[str, Any]:
    """The Achievement a certificate states, from the content certified at issue."""
    modules = content.modules
    lines = [f"- {m.code} — {m.title('fr')} ({_hours(m.hours)} h)" for m in modules]
    narrative = ["Réussir chacun des modules du parcours :", *lines,
                 f"soit {_hours(content.total_hours)} heures de formation."]
    if content.builds_on:  # the pathway: what the track requires first
        narrative.insert(0, "Détenir un certificat valide de chacun des parcours requis : "
                            + ", ".join(f"{code} — {titles.get('fr') or code}" for code, titles in content.builds_on) + ".")
    if content.min_attendance is not None:
        narrative.append(f"Avoir suivi au moins {_percent(content.min_attendance)} % des séances (présences et "
                         "retards comptent, les absences excusées ne sont pas comptées).")
    return {
        "id": achievement_id(content.code),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "humanCode": content.code,
        "name": content.title("fr"),
        "description": (f"Certificat du parcours « {content.title('fr')} » du programme national Kafaa : "
                        f"{len(modules)} modules, {_hours(content.total_hours)} heures de formation."),
        "criteria": {"narrative": "\n".join(narrative)},
        "creator": issuer_profile(content.issuer_name("fr")),
    }


def achievement_document(content: Certified) -> dict[str, Any]:
    """The achievement published at its id: the track as the catalogue has it today."""
    return {"@context": [VC_CONTEXT, OB_CONTEXT], **achievement(content)}


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
    content = certificate.content
    body: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": own_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(content.issuer_name("fr")),
        "validFrom": _iso(_utc(certificate.issued_at)),
    }
    if certificate.expires_on is not None:
        body["validUntil"] = _iso(valid_until(certificate.expires_on))
    body["name"] = content.title("fr")
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
        "achievement": achievement(content),
    }
    index = certificate.status_index
    body["credentialStatus"] = [
        {"id": f"{status_list_id('revocation')}#{index}", "type": "BitstringStatusListEntry",
         "statusPurpose": "revocation", "statusListIndex": str(index),
         "statusListCredential": status_list_id("revocation")},
        {"id": f"{status_list_id('message')}#{index}", "type": "BitstringStatusListEntry",
         "statusPurpose": "message", "statusListIndex": str(index), "statusSize": 1,
         "statusMessage": SUPERSEDED_MESSAGES, "statusListCredential": status_list_id("message")},
    ]
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


def jwt_type(mimetype: str | None) -> str:
    """The JOSE `typ` for the media type a JWS is served as (RFC 7515 4.1.9: the media type without
    "application/"): "vc+jwt" for application/vc+jwt, else "JWT" (application/jwt, text/plain, JSON)."""
    return "vc+jwt" if mimetype == "application/vc+jwt" else "JWT"


def sign_jwt(vc: dict[str, Any], typ: str = "JWT") -> str:
    """The credential as a compact JWS signed with the current issuer key; `typ` per jwt_type."""
    store = keys.keystore()
    payload = b64url(_json(jwt_claims(vc)))
    for attempt in (1, 2):
        kid = store.current_kid
        public = store.public_keys()[kid]
        header = {"alg": JOSE_ALG, "kid": key_url(kid), "jwk": public_jwk(kid, public), "typ": typ}
        signing_input = f"{b64url(_json(header))}.{payload}"
        try:
            _, signature = store.sign(signing_input.encode("ascii"), kid=kid)
        except LookupError:  # the key was rotated between reading its id and signing: once more
            if attempt == 2:
                raise
            continue
        return f"{signing_input}.{b64url(signature)}"
    raise AssertionError("unreachable")


def signed_credential(certificate: Certificate, typ: str = "JWT") -> tuple[dict[str, Any], str]:
    vc = credential(certificate)
    return vc, sign_jwt(vc, typ)


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


def _list_length() -> int:
    """Entries in both lists: enough for every index taken (see rules.status_list_size), never fewer than
    the highest one in use needs."""
    taken = ((db.session.scalar(sa.select(sa.func.max(Certificate.id))) or 0)
             + db.session.scalar(sa.select(sa.func.count()).select_from(RetiredStatusIndex)))
    highest = max(db.session.scalar(sa.select(sa.func.max(Certificate.status_index))) or 0,
                  db.session.scalar(sa.select(sa.func.max(RetiredStatusIndex.status_index))) or 0)
    return max(status_list_size(taken), highest + 1)


def status_list_credential(purpose: str = "revocation") -> dict[str, Any]:
    """A status list of every certificate, as of now. "revocation": the bits of revoked certificates and of
    retired indexes (a lifted revocation); "message": the bits of superseded certificates."""
    if purpose == "revocation":
        indexes = [*db.session.scalars(sa.select(Certificate.status_index).where(Certificate.revoked_at.is_not(None))),
                   *db.session.scalars(sa.select(RetiredStatusIndex.status_index))]
    else:
        indexes = db.session.scalars(sa.select(Certificate.status_index)
                                     .where(Certificate.superseded_at.is_not(None))).all()
    own_id = status_list_id(purpose)
    subject: dict[str, Any] = {"id": f"{own_id}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                               "encodedList": encode_status_list(indexes, _list_length() - 1)}
    return {
        "@context": [VC_CONTEXT],
        "id": own_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(),
        "validFrom": _iso(_utc(clock.now())),
        "credentialSubject": subject,
    }
