"""Certificates as Open Badges 3.0 credentials: signed VC-JWT checked with the published key only, the
properties Open Badges 3.0 requires, the hashed identity, and the revocation status list wallets read.

Nothing here uses the application's signing or encoding code to check its output: signatures are verified
with `cryptography` and the JWK from /.well-known/jwks.json, and the status list is decoded by hand.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from certificates.openbadges import encode_status_list
from tests.helpers import TEST_CONFIG
from tests.test_certificate_issuance import make_eligible  # noqa: F401 - the fixture, shared

BASE = TEST_CONFIG["BASE_URL"]
STATUS_LIST = "/credentials/status/revocation"
MESSAGE_LIST = "/credentials/status/message"
JWT = {"Accept": "application/vc+jwt"}

# Open Badges 3.0 (1EdTech, spec 3.0): the @context and types of an OpenBadgeCredential, and what the
# JSON Schema ob_v3p0_achievementcredential_schema.json requires of each object.
CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
REQUIRED = {
    "OpenBadgeCredential": {"@context", "id", "type", "issuer", "validFrom", "credentialSubject"},
    "Profile": {"id", "type"},
    "AchievementSubject": {"type", "achievement"},
    "Achievement": {"id", "type", "name", "description", "criteria"},
    "IdentityObject": {"type", "hashed", "identityHash", "identityType"},
    # W3C Bitstring Status List v1.0
    "BitstringStatusListEntry": {"type", "statusPurpose", "statusListIndex", "statusListCredential"},
    "BitstringStatusList": {"type", "statusPurpose", "encodedList"},
}
# Open Badges 3.0, 8.2.3: "Additional JOSE Headers are NOT allowed"; typ "JWT". RFC 7515 4.1.9: typ is the
# media type served (without "application/"): "JWT" as application/jwt or text/plain, "vc+jwt" as
# application/vc+jwt (VC-JOSE-COSE), the one a client gets only by asking for it.
JOSE_HEADERS = {"alg", "kid", "jwk", "typ"}
TYP = {"application/vc+jwt": "vc+jwt", "application/jwt": "JWT", "text/plain": "JWT"}
# 8.2.4.1: iss = issuer.id, jti = id, nbf = validFrom, sub = credentialSubject.id (exp = validUntil).
JWT_CLAIMS = {"iss", "jti", "nbf", "sub"}
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MIN_STATUS_BYTES = 131_072 // 8


# --- independent decoding and verification ---------------------------------------------------------------

def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def epoch(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def published_jwk(client, header: dict) -> dict:
    """The key the header names, as published in the JWK set (never the header's own copy)."""
    kid = urlsplit(header["kid"]).path.rsplit("/", 1)[-1]
    matches = [k for k in client.get("/.well-known/jwks.json").json["keys"] if k["kid"] == kid]
    assert len(matches) == 1, f"kid {kid} is not published"
    return matches[0]


def verify_jws(client, jws: str) -> tuple[dict, dict]:
    """Check a compact JWS against the published key; return (header, payload). Raises InvalidSignature."""
    encoded_header, encoded_payload, encoded_signature = jws.split(".")
    header = json.loads(b64url_decode(encoded_header))
    assert header["alg"] == "EdDSA"
    jwk = published_jwk(client, header)
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    key = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    key.verify(b64url_decode(encoded_signature), f"{encoded_header}.{encoded_payload}".encode("ascii"))
    return header, json.loads(b64url_decode(encoded_payload))


def status_bits(client, url: str = STATUS_LIST) -> tuple[bytes, dict]:
    """A status bitstring as any verifier reads it: anonymous GET, verify, base64url, gunzip."""
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    _, payload = verify_jws(client, response.get_data(as_text=True))
    encoded = payload["credentialSubject"]["encodedList"]
    assert encoded.startswith("u"), "multibase base64url (no padding) starts with u"
    assert "=" not in encoded
    bits = gzip.decompress(b64url_decode(encoded[1:]))
    assert len(bits) >= MIN_STATUS_BYTES
    return bits, payload


def entry(vc: dict, purpose: str) -> dict:
    """The credential's BitstringStatusListEntry of a purpose."""
    (found,) = [e for e in vc["credentialStatus"] if e["statusPurpose"] == purpose]
    return found


def bit(bits: bytes, index: int) -> int:
    """Bit `index`, counted from the most significant bit of the first byte (Bitstring Status List)."""
    return (bits[index // 8] >> (7 - index % 8)) & 1


# --- fixtures ------------------------------------------------------------------------------------------

@pytest.fixture
def issued(client, make_eligible, make_user, token_for):  # noqa: F811 - make_eligible is the imported fixture
    """Certificates issued to trainees; returns a function giving (serial, trainee, holder headers)."""
    make, admin_headers = make_eligible

    def issue(**fields):
        trainee, track = make(**fields)
        response = client.post("/api/v1/certificates", headers=admin_headers,
                               json={"trainee_id": trainee.id, "track": track.code})
        assert response.status_code == 201, response.json
        holder = make_user("trainee", trainee_id=trainee.id)
        return response.json["serial"], trainee, token_for(holder), holder
    return issue, admin_headers


def get_jws(client, serial: str, headers: dict) -> str:
    response = client.get(f"/api/v1/certificates/{serial}/credential", headers={**headers, **JWT})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/vc+jwt"
    return response.get_data(as_text=True)


# --- tests ---------------------------------------------------------------------------------------------

def test_credential_signature_verifies_with_the_published_key(client, issued):
    issue, _ = issued
    serial, _, headers, _ = issue()
    jws = get_jws(client, serial, headers)
    header, payload = verify_jws(client, jws)

    assert set(header) <= JOSE_HEADERS and header["typ"] == "vc+jwt"  # asked for as application/vc+jwt
    # kid is a URL on the issuer's own site that dereferences to the JWK; the header copy is that same key.
    assert header["kid"].startswith(f"{BASE}/issuers/kafaa/")
    dereferenced = client.get(urlsplit(header["kid"]).path)
    assert dereferenced.status_code == 200
    assert dereferenced.json == published_jwk(client, header) == header["jwk"]
    assert "d" not in header["jwk"]

    # JWT claims mirror the credential (8.2.4.1).
    assert JWT_CLAIMS <= set(payload)
    assert payload["iss"] == payload["issuer"]["id"]
    assert payload["jti"] == payload["id"] == f"{BASE}/credentials/{serial}"
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert payload["nbf"] == epoch(payload["validFrom"])
    assert payload["exp"] == epoch(payload["validUntil"])

    # The default JSON answer carries the same signed credential; Ed25519 makes it reproducible.
    wrapped = client.get(f"/api/v1/certificates/{serial}/credential", headers=headers)
    assert wrapped.status_code == 200 and wrapped.mimetype == "application/json"
    assert wrapped.headers["Cache-Control"] == "private, no-store"
    assert wrapped.json["serial"] == serial
    assert verify_jws(client, wrapped.json["jwt"]) == ({**header, "typ": "JWT"}, payload)
    assert wrapped.json["credential"] == {k: v for k, v in payload.items() if k not in JWT_CLAIMS | {"exp"}}
    for accept in ("application/jwt", "text/plain", "application/vc+jwt"):
        plain = client.get(f"/api/v1/certificates/{serial}/credential", headers={**headers, "Accept": accept})
        again_header, again = verify_jws(client, plain.get_data(as_text=True))
        assert plain.mimetype == accept and again_header["typ"] == TYP[accept] and again == payload
    for accept, media in (("application/vc+jwt", "application/vc+jwt"), ("*/*", "text/plain")):
        listed = client.get(STATUS_LIST, headers={"Accept": accept})
        assert listed.mimetype == media and verify_jws(client, listed.get_data(as_text=True))[0]["typ"] == TYP[media]


def test_tampered_credential_fails_verification(client, issued):
    issue, _ = issued
    serial, _, headers, _ = issue()
    jws = get_jws(client, serial, headers)
    encoded_header, encoded_payload, encoded_signature = jws.split(".")
    payload = json.loads(b64url_decode(encoded_payload))

    forged = json.loads(json.dumps(payload))
    forged["credentialSubject"]["identifier"][1]["identityHash"] = "Quelqu'un d'autre"
    forged_jws = f"{encoded_header}.{b64url_encode(json.dumps(forged).encode())}.{encoded_signature}"
    with pytest.raises(InvalidSignature):
        verify_jws(client, forged_jws)

    later = {**payload, "exp": payload["exp"] + 10 * 365 * 86400}
    with pytest.raises(InvalidSignature):
        verify_jws(client, f"{encoded_header}.{b64url_encode(json.dumps(later).encode())}.{encoded_signature}")

    signature = bytearray(b64url_decode(encoded_signature))
    signature[0] ^= 1
    with pytest.raises(InvalidSignature):
        verify_jws(client, f"{encoded_header}.{encoded_payload}.{b64url_encode(bytes(signature))}")

    # Signed by any other key, the same payload does not pass as the issuer's.
    other = Ed25519PrivateKey.generate().sign(f"{encoded_header}.{encoded_payload}".encode())
    with pytest.raises(InvalidSignature):
        verify_jws(client, f"{encoded_header}.{encoded_payload}.{b64url_encode(other)}")


def test_open_badges_required_properties(client, issued, app):
    issue, _ = issued
    serial, trainee, headers, _ = issue()
    _, vc = verify_jws(client, get_jws(client, serial, headers))

    assert REQUIRED["OpenBadgeCredential"] <= set(vc)
    assert vc["@context"][:2] == CONTEXTS
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert DATETIME.match(vc["validFrom"]) and DATETIME.match(vc["validUntil"])
    assert vc["validFrom"] < vc["validUntil"]
    assert vc["name"]

    issuer = vc["issuer"]
    assert REQUIRED["Profile"] <= set(issuer) and "Profile" in issuer["type"]
    assert issuer["id"] == f"{BASE}/issuers/kafaa" and issuer["name"] == app.config["ISSUER_NAME"]

    subject = vc["credentialSubject"]
    assert REQUIRED["AchievementSubject"] <= set(subject) and "AchievementSubject" in subject["type"]
    assert subject.get("id") or subject.get("identifier"), "AchievementSubject needs an id or an identifier"
    for identity in subject["identifier"]:
        assert REQUIRED["IdentityObject"] <= set(identity) and identity["type"] == "IdentityObject"

    achievement = subject["achievement"]
    assert REQUIRED["Achievement"] <= set(achievement) and "Achievement" in achievement["type"]
    track = trainee_track(client, headers)
    assert achievement["id"] == f"{BASE}/achievements/{track['code']}"
    narrative = achievement["criteria"]["narrative"]
    for module in track["modules"]:
        assert module["code"] in narrative and f"({module['hours']:g} h)" in narrative
    assert "80 %" in narrative and "heures" in narrative

    revocation, message = entry(vc, "revocation"), entry(vc, "message")
    for status in (revocation, message):
        assert REQUIRED["BitstringStatusListEntry"] <= set(status) and status["type"] == "BitstringStatusListEntry"
        assert status["statusListIndex"].isdigit()
    assert revocation["statusListCredential"] == f"{BASE}{STATUS_LIST}"
    assert message["statusListCredential"] == f"{BASE}{MESSAGE_LIST}"
    # Bitstring Status List v1.0: a "message" entry says what each value of its statusSize bits means.
    assert message["statusSize"] == 1 and [m["status"] for m in message["statusMessage"]] == ["0x0", "0x1"]

    # The issuer profile and the achievement are published at their ids, to anyone.
    client.post("/logout")
    profile = client.get(urlsplit(issuer["id"]).path)
    assert profile.status_code == 200 and profile.headers["Access-Control-Allow-Origin"] == "*"
    assert {k: profile.json[k] for k in issuer} == issuer and profile.json["@context"] == CONTEXTS
    published = client.get(urlsplit(achievement["id"]).path)
    assert published.status_code == 200
    assert {k: published.json[k] for k in achievement} == achievement
    assert client.get("/achievements/NO-SUCH-TRACK").status_code == 404
    assert client.get("/issuers/kafaa/keys/00000000").status_code == 404


def trainee_track(client, headers) -> dict:
    """The track of the holder's certificate, with its modules' codes and hours, read through the API."""
    mine = client.get("/api/v1/me/certificates", headers=headers).json["items"][0]
    track = client.get(f"/api/v1/tracks/{mine['track']}", headers=headers).json
    modules = [client.get(f"/api/v1/modules/{code}", headers=headers).json for code in track["modules"]]
    return {"code": track["code"], "modules": [{"code": m["code"], "hours": float(m["hours"])} for m in modules]}


def test_subject_is_a_salted_email_hash_never_the_email(client, issued):
    issue, _ = issued
    serial, trainee, headers, _ = issue(email="fatima.elidrissi@example.ma", name="Fatima Zahra El Idrissi")
    jws = get_jws(client, serial, headers)
    _, vc = verify_jws(client, jws)
    (email_identity,) = [i for i in vc["credentialSubject"]["identifier"] if i["identityType"] == "emailAddress"]
    assert email_identity["hashed"] is True
    salt = email_identity["salt"]
    assert len(salt) >= 16
    expected = "sha256$" + hashlib.sha256(("fatima.elidrissi@example.ma" + salt).encode()).hexdigest()
    assert email_identity["identityHash"] == expected

    wrapped = client.get(f"/api/v1/certificates/{serial}/credential", headers=headers).get_data(as_text=True)
    for text in (json.dumps(vc), wrapped):
        assert "fatima.elidrissi" not in text.lower() and "example.ma" not in text

    # Another certificate gets another salt: hashes do not link one person's credentials.
    other_serial, _, other_headers, _ = issue(email="second@example.ma")
    _, other = verify_jws(client, get_jws(client, other_serial, other_headers))
    assert other["credentialSubject"]["identifier"][0]["salt"] != salt


def test_status_list_bit_flips_when_the_certificate_is_revoked(client, issued):
    issue, admin_headers = issued
    serial, _, headers, _ = issue()
    kept_serial, _, kept_headers, _ = issue()
    _, vc = verify_jws(client, get_jws(client, serial, headers))
    _, kept = verify_jws(client, get_jws(client, kept_serial, kept_headers))
    index = int(entry(vc, "revocation")["statusListIndex"])
    kept_index = int(entry(kept, "revocation")["statusListIndex"])
    assert index != kept_index

    bits, status_vc = status_bits(client)
    assert status_vc["id"] == f"{BASE}{STATUS_LIST}" == entry(vc, "revocation")["statusListCredential"]
    assert status_vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_vc["issuer"] == vc["issuer"]["id"] == status_vc["iss"]
    subject = status_vc["credentialSubject"]
    assert REQUIRED["BitstringStatusList"] <= set(subject)
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert bit(bits, index) == 0 and not any(bits)

    revoked = client.post(f"/api/v1/certificates/{serial}/revoke", headers=admin_headers,
                          json={"reason": "Fraude à l'examen"})
    assert revoked.status_code == 200, revoked.json

    bits, _ = status_bits(client)
    assert bit(bits, index) == 1
    assert bit(bits, kept_index) == 0
    assert sum(bin(b).count("1") for b in bits) == 1

    # Asked for JSON, the list comes wrapped with its JWS; asked for vc+jwt, as the bare JWS.
    as_json = client.get(STATUS_LIST, headers={"Accept": "application/json"})
    assert as_json.mimetype == "application/json" and as_json.headers["Access-Control-Allow-Origin"] == "*"
    assert as_json.json["credential"]["credentialSubject"] == subject | {
        "encodedList": as_json.json["credential"]["credentialSubject"]["encodedList"]}
    _, from_wrapper = verify_jws(client, as_json.json["jwt"])
    assert bit(gzip.decompress(b64url_decode(from_wrapper["credentialSubject"]["encodedList"][1:])), index) == 1
    assert client.get(STATUS_LIST, headers=JWT).mimetype == "application/vc+jwt"


def test_a_superseded_certificate_is_told_apart_from_a_revoked_one(client, issued):
    """Superseded (a corrected name, a renewal) sets the bit of the "message" list, never the revocation bit:
    a wallet does not call a corrected certificate revoked."""
    issue, admin_headers = issued
    serial, _, headers, _ = issue()
    _, vc = verify_jws(client, get_jws(client, serial, headers))
    index = int(entry(vc, "revocation")["statusListIndex"])
    assert int(entry(vc, "message")["statusListIndex"]) == index

    reissued = client.post(f"/api/v1/certificates/{serial}/reissue", headers=admin_headers)
    assert reissued.status_code == 201, reissued.json
    _, new_vc = verify_jws(client, get_jws(client, reissued.json["serial"], headers))
    new_index = int(entry(new_vc, "revocation")["statusListIndex"])

    revocation, _ = status_bits(client)
    message, message_vc = status_bits(client, MESSAGE_LIST)
    assert message_vc["credentialSubject"]["statusPurpose"] == "message"
    assert bit(revocation, index) == 0 and not any(revocation)
    assert bit(message, index) == 1 and bit(message, new_index) == 0
    assert sum(bin(b).count("1") for b in message) == 1


def test_status_list_encoding():
    """Bit order, the 16 KB minimum, growth by whole 16 KB blocks, and a reproducible encoding. Pure."""
    def decode(encoded: str) -> bytes:
        return gzip.decompress(b64url_decode(encoded[1:]))

    assert len(decode(encode_status_list([], None))) == MIN_STATUS_BYTES
    bits = decode(encode_status_list([0, 7, 8, 131_071], 131_071))
    assert len(bits) == MIN_STATUS_BYTES
    assert bits[0] == 0b1000_0001 and bits[1] == 0b1000_0000 and bits[-1] == 0b0000_0001
    assert sum(bin(b).count("1") for b in bits) == 4
    grown = decode(encode_status_list([131_072], 131_072))
    assert len(grown) == 2 * MIN_STATUS_BYTES and bit(grown, 131_072) == 1
    assert encode_status_list([3], 10) == encode_status_list([3], 10)


def test_only_the_holder_or_an_admin_gets_the_credential(client, issued, make_user, token_for, login):
    issue, admin_headers = issued
    serial, trainee, headers, holder = issue()
    _, other_trainee, other_headers, other_holder = issue()
    url = f"/api/v1/certificates/{serial}/credential"

    assert client.get(url).status_code == 401
    assert client.get(url, headers=other_headers).status_code == 404
    assert client.get(url, headers=token_for(make_user("trainer"))).status_code == 404
    assert client.get(url, headers=admin_headers).status_code == 200
    assert client.get(url, headers=headers).status_code == 200
    assert client.get("/api/v1/certificates/KF-1999-999999/credential", headers=admin_headers).status_code == 404

    # The web download, with the session cookie.
    page = f"/certificates/{serial}/credential.jwt"
    client.post("/logout")
    anonymous = client.get(page)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(other_holder)
    assert client.get(page).status_code == 404
    login(holder)
    download = client.get(page)
    assert download.status_code == 200 and download.mimetype == "text/plain"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{serial}.jwt"'
    assert download.headers["Cache-Control"] == "private, no-store"
    _, vc = verify_jws(client, download.get_data(as_text=True))
    assert vc["id"] == f"{BASE}/credentials/{serial}"


def test_certificates_page_offers_the_credential_while_it_is_good(client, issued, login):
    issue, admin_headers = issued
    serial, _, _, holder = issue()
    login(holder)
    link = f'href="/certificates/{serial}/credential.jwt"'
    assert link in client.get("/me/certificates").get_data(as_text=True)
    client.post(f"/api/v1/certificates/{serial}/revoke", headers=admin_headers, json={"reason": "Erreur"})
    login(holder)
    assert link not in client.get("/me/certificates").get_data(as_text=True)
