"""Signed certificate tokens, issuer keys and verification codes (no Flask, no database)."""

from __future__ import annotations

import base64
import json
import re
import stat
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates import signing
from certificates.signing import (
    MAX_TOKEN_CHARS,
    Claims,
    InvalidToken,
    KeyStore,
    codes_match,
    make_token,
    names_digest,
    normalize_code,
    read_token,
    verification_code,
    verify_url,
)

CONTENT = dict(
    serial="KF-2026-000123",
    holder="Fatima-Zahra El Amrani Idrissi",
    holder_ar="فاطمة الزهراء العمراني",
    holder_tfng="ⴼⴰⵟⵉⵎⴰ ⵣⵣⵀⵔⴰ",
    track="IA-DATA-01",
    issued_on=date(2026, 11, 26),
    expires_on=date(2029, 11, 26),
)


def read_back(content: dict, kid: str) -> Claims:
    """What a version 2 token reads back as: everything but the names, which it binds by their digest."""
    names = names_digest(content["holder"], content["holder_ar"], content["holder_tfng"])
    return Claims(**{**content, "holder": None, "holder_ar": None, "holder_tfng": None}, kid=kid, names=names)


def legacy_token(store: KeyStore, content: dict) -> str:
    """A version 1 token, which carried the names themselves: issued before, still verified."""
    body = bytearray([1]) + bytes.fromhex(store.current_kid)
    body += signing._day(content["issued_on"]).to_bytes(2, "big")
    body += (0xFFFF if content["expires_on"] is None else signing._day(content["expires_on"])).to_bytes(2, "big")
    for field in (content["serial"], content["holder"], content["holder_ar"], content["holder_tfng"] or "",
                  content["track"]):
        body += signing._pack_str(field)
    _, sig = store.sign(signing._CONTEXT + bytes(body))
    return signing._to_text(bytes(body) + sig)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    ks = KeyStore(tmp_path_factory.mktemp("keys"))
    ks.ensure()
    return ks


@pytest.fixture(scope="module")
def token(store: KeyStore) -> str:
    return make_token(store, **CONTENT)[0]


def test_round_trip(store: KeyStore, token: str) -> None:
    claims = read_token(token, store.public_keys())
    assert claims == read_back(CONTENT, store.current_kid)
    assert "Fatima" not in str(claims) and claims.names == names_digest("Fatima-Zahra El Amrani Idrissi",
                                                                        "فاطمة الزهراء العمراني", "ⴼⴰⵟⵉⵎⴰ ⵣⵣⵀⵔⴰ")


def test_a_version_1_token_still_verifies_with_its_names(store: KeyStore) -> None:
    claims = read_token(legacy_token(store, CONTENT), store.public_keys())
    assert claims == Claims(**CONTENT, kid=store.current_kid)


@pytest.mark.parametrize(
    "changes",
    [
        {"holder_tfng": None},
        {"expires_on": None},
        {"holder": "Zoé Müller-Ñúñez Ørsted"},  # Latin-1 window
        {"holder": "Łukasz Œuvre"},  # outside Latin-1: UTF-8
        {"holder_ar": "صلاح الدين عبد الله"},
        {"holder_ar": "أمڭار"},  # ڭ is outside the Arabic window: UTF-8
        {"holder": "A" * 150},  # long length form
    ],
)
def test_round_trip_variants(store: KeyStore, changes: dict[str, object]) -> None:
    content = {**CONTENT, **changes}
    token, claims = make_token(store, **content)  # type: ignore[arg-type]
    assert claims == Claims(**content, kid=store.current_kid, names=claims.names)  # type: ignore[arg-type]
    assert read_token(token, store.public_keys()) == read_back(content, store.current_kid)
    # Any change of a name changes the digest the token binds.
    other = {**content, "holder": content["holder"] + "x"}
    assert read_token(make_token(store, **other)[0], store.public_keys()).names != claims.names  # type: ignore[arg-type]


def test_names_are_nfc_normalised(store: KeyStore) -> None:
    _, claims = make_token(store, **{**CONTENT, "holder": "Zoe\u0301"})
    assert claims.holder == "Zoé"


def test_names_of_any_length_and_script_fit_and_do_not_grow_the_token(store: KeyStore, token: str) -> None:
    """The registry accepts names of 200 characters in each script (columns of 200): the token carries
    their digest, so its length does not depend on them at all."""
    longest = {**CONTENT, "holder": "Œ" * 200, "holder_ar": "ڭ" * 200, "holder_tfng": "ⵦ" * 200}
    long_token, _ = make_token(store, **longest)  # type: ignore[arg-type]
    assert len(long_token) == len(token) <= 300
    assert read_token(long_token, store.public_keys()) == read_back(longest, store.current_kid)


def test_token_is_digits_and_compact(token: str) -> None:
    assert token.isascii() and token.isdigit()
    assert len(token) < 300


@settings(max_examples=300)
@given(data=st.data())
def test_any_single_character_change_never_verifies(store: KeyStore, token: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(token) - 1), label="index")
    kind = data.draw(st.sampled_from(["replace", "delete", "insert"]), label="kind")
    ch = data.draw(st.one_of(st.sampled_from("0123456789"), st.characters()), label="char")
    if kind == "replace":
        if ch == token[i]:
            return
        altered = token[:i] + ch + token[i + 1 :]
    elif kind == "delete":
        altered = token[:i] + token[i + 1 :]
    else:
        altered = token[:i] + ch + token[i:]
    with pytest.raises(InvalidToken):
        read_token(altered, store.public_keys())


@settings(max_examples=300)
@given(garbage=st.one_of(st.text(max_size=1200), st.from_regex(r"[1-9][0-9]{0,1100}", fullmatch=True)))
def test_garbage_raises_invalid_token_only(garbage: str) -> None:
    keys = {"00000000": Ed25519PrivateKey.generate().public_key()}
    with pytest.raises(InvalidToken):
        read_token(garbage, keys)


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "0", "١٢٣", " 123", "1e5", "9" * (MAX_TOKEN_CHARS + 1), None, b"123"],
)
def test_malformed_inputs(store: KeyStore, bad: object) -> None:
    with pytest.raises(InvalidToken):
        read_token(bad, store.public_keys())  # type: ignore[arg-type]


def test_leading_zero_and_truncation_refused(store: KeyStore, token: str) -> None:
    for altered in ("0" + token, token[:-1], token[: len(token) // 2], token + "0"):
        with pytest.raises(InvalidToken):
            read_token(altered, store.public_keys())


def test_oversized_input_refused_before_decoding(store: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> int:
        raise AssertionError("decoded an oversized token")

    monkeypatch.setattr(signing, "int", boom, raising=False)
    with pytest.raises(InvalidToken):
        read_token("7" * (MAX_TOKEN_CHARS + 1), store.public_keys())


def test_unknown_kid_refused(token: str, tmp_path: Path) -> None:
    other = KeyStore(tmp_path)
    other.ensure()
    with pytest.raises(InvalidToken, match="unknown key id"):
        read_token(token, other.public_keys())


def test_other_key_under_same_kid_refused(store: KeyStore, token: str) -> None:
    kid = store.current_kid
    with pytest.raises(InvalidToken, match="bad signature"):
        read_token(token, {kid: Ed25519PrivateKey.generate().public_key()})
    # Only Ed25519 keys count: any other key type under the kid is as good as no key.
    with pytest.raises(InvalidToken):
        read_token(token, {kid: Ed448PrivateKey.generate().public_key()})  # type: ignore[dict-item]


def test_other_version_refused(store: KeyStore, token: str) -> None:
    raw = signing._from_text(token)
    for version in (0, 3, 255):
        forged = signing._to_text(bytes([version]) + raw[1:])
        with pytest.raises(InvalidToken, match="version"):
            read_token(forged, store.public_keys())


def test_signature_is_bound_to_the_context(store: KeyStore) -> None:
    # A signature the key made over the bare body (no domain-separation prefix) must not verify.
    token, _ = make_token(store, **CONTENT)
    body = signing._from_text(token)[:-64]
    _, sig = store.sign(body)
    with pytest.raises(InvalidToken, match="bad signature"):
        read_token(signing._to_text(body + sig), store.public_keys())


def test_ensure_is_idempotent_and_keys_are_private(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "keys")
    kid = ks.ensure()
    assert ks.ensure() == kid
    assert KeyStore(tmp_path / "keys").ensure() == kid  # another process sees the same key
    private = list((tmp_path / "keys").glob("*.key"))
    assert [p.stem for p in private] == [kid]
    assert stat.S_IMODE(private[0].stat().st_mode) == 0o600


def test_current_kid_before_ensure(tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        KeyStore(tmp_path / "none").current_kid


def test_rotation_keeps_old_tokens_verifying(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path)
    old_kid = ks.ensure()
    old_token, _ = make_token(ks, **CONTENT)
    worker = KeyStore(tmp_path)  # another worker process with its own cache
    assert worker.current_kid == old_kid

    new_kid = ks.rotate()
    assert new_kid != old_kid and ks.current_kid == new_kid
    new_token, claims = make_token(ks, **CONTENT)
    assert claims.kid == new_kid
    for reader in (ks, worker):
        keys = reader.public_keys()
        assert set(keys) == {old_kid, new_kid}
        assert read_token(old_token, keys).kid == old_kid
        assert read_token(new_token, keys).kid == new_kid
    assert worker.current_kid == new_kid
    # The retired private key is gone: nothing can sign with it any more.
    assert not (tmp_path / f"{old_kid}.key").exists()
    with pytest.raises(LookupError):
        ks.sign(b"x", kid=old_kid)


def test_jwks_shape(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path)
    first = ks.ensure()
    second = ks.rotate()
    jwks = json.loads(json.dumps(ks.jwks()))
    assert list(jwks) == ["keys"]
    assert [k["kid"] for k in jwks["keys"]] == [second, first]  # current key first
    for jwk in jwks["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
        assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("OKP", "Ed25519", "sig", "EdDSA")
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", jwk["x"])
        assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
        assert re.fullmatch(r"[0-9a-f]{8}", jwk["kid"])


def test_verify_url(token: str) -> None:
    assert verify_url("https://kafaa.ma", token) == f"https://kafaa.ma/v/{token}"
    assert verify_url("https://kafaa.ma/", token) == f"https://kafaa.ma/v/{token}"


def test_verification_code(store: KeyStore, token: str) -> None:
    code = verification_code(token)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    assert verification_code(token) == code
    assert verification_code(signing._from_text(token)[-64:]) == code
    other, _ = make_token(store, **{**CONTENT, "serial": "KF-2026-000124"})
    assert verification_code(other) != code


def test_typed_codes() -> None:
    assert normalize_code("ab1o-ilxz") == "AB10-11XZ"
    assert normalize_code(" 7k2m 9q4t ") == "7K2M-9Q4T"
    assert normalize_code("7K2M-9Q4") is None
    assert normalize_code("7K2M-9Q4U") is None  # U is not in the alphabet
    assert codes_match("7K2M-9Q4T", "7k2m9q4t")
    assert not codes_match("7K2M-9Q4T", "7K2M-9Q4V")
    assert not codes_match("7K2M-9Q4T", "")
