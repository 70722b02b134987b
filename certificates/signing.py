"""Ed25519 issuer keys and the compact signed token that a certificate's QR code carries.

Token layout (version 2, issued now), all integers big-endian::

    version  1 byte   0x02 = this layout, signed with Ed25519
    kid      4 bytes  first 4 bytes of the key's RFC 7638 thumbprint (printed as 8 hex digits)
    issued   2 bytes  days since 2000-01-01
    expires  2 bytes  days since 2000-01-01, 0xFFFF = no expiry
    serial, track: short strings, see _pack_str
    names    16 bytes names_digest(holder, holder_ar, holder_tfng): the names are bound, not carried
    sig      64 bytes Ed25519 over _CONTEXT + every byte above

Version 1 (still read, no longer issued) carried the three names themselves between serial and track:
three names of 200 characters, which the registry accepts, did not fit, and a certificate could not be
issued. Carrying their digest instead, any name the registry accepts can be certified, the QR code stays
small, and it no longer shows the holder's names to whoever decodes it; the verification page, which reads
the registry, shows them. Anyone can still check printed names against a token with names_digest.

The bytes travel as one decimal number (a 0x01 byte is prepended so leading zero bytes survive).
Digits are URL-safe and go into the QR code's numeric mode at 3.33 bits a digit, which made the
smallest symbol of the encodings measured (base32 in alphanumeric mode came one version larger,
base64url in byte mode two).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

TOKEN_VERSION = 2
_NAMES_IN_TOKEN = 1  # the first layout, which carried the names
_NAMES_DIGEST_LEN = 16
_NAMES_CONTEXT = b"kafaa-names-v2\x00"
MAX_TOKEN_CHARS = 1024  # checked before any decoding; a version 2 token is ~250 digits, version 1 ~350
_CONTEXT = b"kafaa-certificate-v1\x00"  # domain separation: these signatures mean nothing elsewhere
_EPOCH = date(2000, 1, 1)
_NO_EXPIRY = 0xFFFF
_KID_LEN = 4
_SIG_LEN = 64
_HEADER_LEN = 1 + _KID_LEN + 2 + 2


class InvalidToken(ValueError):
    """Any reason a token does not verify. `reason` is for logs, not for end users."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    """What a token states. A version 2 token binds the names through `names` (their digest) and does not
    carry them: read back, holder, holder_ar and holder_tfng are None."""

    serial: str
    holder: str | None
    holder_ar: str | None
    holder_tfng: str | None
    track: str
    issued_on: date
    expires_on: date | None
    kid: str
    names: bytes | None = None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def names_digest(holder: str, holder_ar: str, holder_tfng: str | None) -> bytes:
    """The 16 bytes a token carries for the holder's names (NFC, in this order, no Tifinagh name = "")."""
    joined = "\x00".join((_nfc(holder), _nfc(holder_ar), _nfc(holder_tfng or "")))
    return hashlib.sha256(_NAMES_CONTEXT + joined.encode("utf-8")).digest()[:_NAMES_DIGEST_LEN]


# ---------------------------------------------------------------------------------------------
# Keys


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """First 4 bytes of the RFC 7638 JWK thumbprint, as 8 lowercase hex digits."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public(key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).digest()[:_KID_LEN].hex()


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw_public(key)),
        "kid": kid,
        "use": "sig",
        "alg": "EdDSA",
    }


@contextmanager
def keys_directory_lock(directory: Path) -> Iterator[None]:
    """Held while keys in this directory are created or changed. Workers and instances starting together
    on an empty, shared KEYS_DIR must not each make their own "first" key. A lock on a file (not a
    threading lock) holds across processes, and across threads too since each opens the file anew."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class KeyStore:
    """Ed25519 issuer keys in one directory: `<kid>.key` (private, 0600), `<kid>.pub`, `current`.

    Rotation writes a new key, points `current` at it and deletes the old private key; old public
    keys stay, so certificates signed before keep verifying. Keys are cached in memory and reloaded
    only when the directory changes (another worker rotated), which costs one stat() per call.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._current: str | None = None
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._public: dict[str, Ed25519PublicKey] = {}

    # -- public API -----------------------------------------------------------------------------

    def ensure(self) -> str:
        """Create the directory and a first key if there is none; return the current kid."""
        with self._exclusive():
            if not (self.directory / "current").exists():
                self._write_new_key()
        return self.current_kid

    @property
    def current_kid(self) -> str:
        self._refresh()
        if self._current is None:
            raise LookupError(f"no issuer key in {self.directory}: call ensure() first")
        return self._current

    def sign(self, payload: bytes, kid: str | None = None) -> tuple[str, bytes]:
        """Sign with the current key (or the given kid, if its private key is still held)."""
        kid = kid or self.current_kid
        self._refresh()
        try:
            key = self._private[kid]
        except KeyError:
            raise LookupError(f"no private key for kid {kid!r}") from None
        return kid, key.sign(payload)

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        self._refresh()
        return dict(self._public)

    def rotate(self) -> str:
        """Add a new key, make it current, retire the previous private key; return the new kid."""
        with self._exclusive():
            old = self._read_current()
            kid = self._write_new_key()
            if old and old != kid:
                (self.directory / f"{old}.key").unlink(missing_ok=True)
        self._stamp = None
        return kid

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """RFC 8037 JWK set of every public key, current key first."""
        keys = self.public_keys()
        current = self._current
        order = sorted(keys, key=lambda k: (k != current, k))
        return {"keys": [public_jwk(k, keys[k]) for k in order]}

    # -- files ----------------------------------------------------------------------------------

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock, keys_directory_lock(self.directory):
            yield

    def _read_current(self) -> str | None:
        try:
            return (self.directory / "current").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _write_new_key(self) -> str:
        existing = {p.stem for p in self.directory.glob("*.pub")}
        while True:  # a 32-bit kid collision is astronomically rare, but cheap to rule out
            key = Ed25519PrivateKey.generate()
            kid = key_id(key.public_key())
            if kid not in existing:
                break
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self.directory / f"{kid}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        (self.directory / f"{kid}.pub").write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        tmp = self.directory / "current.tmp"
        tmp.write_text(kid + "\n")
        os.replace(tmp, self.directory / "current")  # atomic: readers see the old or the new kid
        return kid

    def _refresh(self) -> None:
        try:
            stamp = self.directory.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = -1
        if stamp == self._stamp:
            return
        with self._lock:
            private: dict[str, Ed25519PrivateKey] = {}
            public: dict[str, Ed25519PublicKey] = {}
            for path in sorted(self.directory.glob("*.pub")):
                key = serialization.load_pem_public_key(path.read_bytes())
                if isinstance(key, Ed25519PublicKey) and key_id(key) == path.stem:
                    public[path.stem] = key
            for path in sorted(self.directory.glob("*.key")):
                priv = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if isinstance(priv, Ed25519PrivateKey):
                    private[key_id(priv.public_key())] = priv
            current = self._read_current()
            self._private, self._public = private, public
            self._current = current if current in private else None
            self._stamp = stamp


# ---------------------------------------------------------------------------------------------
# Strings: one header byte (2 bits of mode, 6 bits of length), then the bytes. Modes 0-2 keep
# ASCII as is and map 0x80-0xFF onto one 128-code-point window, so an Arabic or Tifinagh name
# costs one byte a letter instead of UTF-8's two or three.

_WINDOWS = (0x0080, 0x0600, 0x2D00)  # Latin-1 supplement, Arabic, Tifinagh
_UTF8 = 3
_LONG = 63  # length 63 means "63 + the next byte"


def _encode_window(text: str, base: int) -> bytes | None:
    out = bytearray()
    for ch in text:
        cp = ord(ch)
        if cp < 0x80:
            out.append(cp)
        elif base <= cp < base + 0x80:
            out.append(cp - base + 0x80)
        else:
            return None
    return bytes(out)


def _pack_str(text: str) -> bytes:
    for mode, base in enumerate(_WINDOWS):
        data = _encode_window(text, base)
        if data is not None:
            break
    else:
        mode, data = _UTF8, text.encode("utf-8")
    n = len(data)
    if n < _LONG:
        head = bytes([mode << 6 | n])
    elif n - _LONG <= 0xFF:
        head = bytes([mode << 6 | _LONG, n - _LONG])
    else:
        raise ValueError(f"field too long for a certificate token: {text[:20]!r}...")
    return head + data


def _unpack_str(buf: bytes, pos: int) -> tuple[str, int]:
    mode, n = buf[pos] >> 6, buf[pos] & 0x3F
    pos += 1
    if n == _LONG:
        n += buf[pos]
        pos += 1
    data = buf[pos : pos + n]
    if len(data) != n:
        raise InvalidToken("truncated string")
    if mode == _UTF8:
        text = data.decode("utf-8")
    else:
        base = _WINDOWS[mode]
        text = "".join(chr(b) if b < 0x80 else chr(b - 0x80 + base) for b in data)
    return text, pos + n


def _day(d: date) -> int:
    n = (d - _EPOCH).days
    if not 0 <= n < _NO_EXPIRY:
        raise ValueError(f"date out of range for a token: {d}")
    return n


# ---------------------------------------------------------------------------------------------
# Tokens


def _to_text(raw: bytes) -> str:
    return str(int.from_bytes(b"\x01" + raw, "big"))


def _from_text(token: str) -> bytes:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("not a string or too long")
    # isdigit() alone would accept Arabic-Indic digits; a leading 0 would give a second spelling.
    if not (token.isascii() and token.isdigit()) or token.startswith("0"):
        raise InvalidToken("not a canonical decimal token")
    n = int(token)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if raw[:1] != b"\x01":
        raise InvalidToken("bad framing")
    return raw[1:]


def make_token(
    keystore: KeyStore,
    *,
    serial: str,
    holder: str,
    holder_ar: str,
    holder_tfng: str | None,
    track: str,
    issued_on: date,
    expires_on: date | None,
) -> tuple[str, Claims]:
    """Sign a certificate's content with the current issuer key; return (token, claims).

    Names are NFC-normalised first; the claims returned hold them (what the registry stores) and their
    digest, which is what the token carries (read back, a token gives the digest only).
    """
    nfc = _nfc
    kid = keystore.current_kid
    claims = Claims(
        serial=nfc(serial),
        holder=nfc(holder),
        holder_ar=nfc(holder_ar),
        holder_tfng=nfc(holder_tfng) if holder_tfng else None,
        track=nfc(track),
        issued_on=issued_on,
        expires_on=expires_on,
        kid=kid,
        names=names_digest(holder, holder_ar, holder_tfng),
    )
    body = bytearray([TOKEN_VERSION])
    body += bytes.fromhex(kid)
    body += _day(issued_on).to_bytes(2, "big")
    body += (_NO_EXPIRY if expires_on is None else _day(expires_on)).to_bytes(2, "big")
    body += _pack_str(claims.serial) + _pack_str(claims.track) + claims.names
    _, sig = keystore.sign(_CONTEXT + bytes(body), kid=kid)
    token = _to_text(bytes(body) + sig)
    if len(token) > MAX_TOKEN_CHARS:
        raise ValueError("certificate content too long for a token")
    return token, claims


def read_token(token: str, public_keys: Mapping[str, Ed25519PublicKey]) -> Claims:
    """Verify a token offline against published keys; raise InvalidToken for any failure."""
    raw = _from_text(token)
    if len(raw) < _HEADER_LEN + 5 + _SIG_LEN:
        raise InvalidToken("too short")
    if raw[0] not in (TOKEN_VERSION, _NAMES_IN_TOKEN):
        raise InvalidToken(f"unsupported version {raw[0]}")
    body, sig = raw[:-_SIG_LEN], raw[-_SIG_LEN:]
    kid = body[1 : 1 + _KID_LEN].hex()
    key = public_keys.get(kid)
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidToken(f"unknown key id {kid}")
    try:
        key.verify(sig, _CONTEXT + body)
    except InvalidSignature:
        raise InvalidToken("bad signature") from None
    # Only signed bytes are parsed from here on; a failure would mean we signed garbage.
    try:
        issued = int.from_bytes(body[5:7], "big")
        expires = int.from_bytes(body[7:9], "big")
        fields: list[str] = []
        pos = _HEADER_LEN
        for _ in range(2 if raw[0] == TOKEN_VERSION else 5):
            text, pos = _unpack_str(body, pos)
            fields.append(text)
        names = None
        if raw[0] == TOKEN_VERSION:
            names = bytes(body[pos : pos + _NAMES_DIGEST_LEN])
            if len(names) != _NAMES_DIGEST_LEN:
                raise InvalidToken("truncated names digest")
            pos += _NAMES_DIGEST_LEN
    except (IndexError, UnicodeDecodeError) as exc:
        raise InvalidToken(f"malformed body: {exc}") from None
    if pos != len(body):
        raise InvalidToken("trailing bytes")
    if raw[0] == TOKEN_VERSION:
        (serial, track), holder, holder_ar, holder_tfng = fields, None, None, None
    else:
        serial, holder, holder_ar, holder_tfng, track = fields
    return Claims(
        serial=serial,
        holder=holder,
        holder_ar=holder_ar,
        holder_tfng=holder_tfng or None,
        track=track,
        issued_on=_EPOCH + timedelta(days=issued),
        expires_on=None if expires == _NO_EXPIRY else _EPOCH + timedelta(days=expires),
        kid=kid,
        names=names,
    )


def verify_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v/{token}"


# ---------------------------------------------------------------------------------------------
# Verification code: 40 bits of a hash of the signature in Crockford base32, typed as XXXX-XXXX.

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to confuse when typing
_CODE_CHARS = 8


def verification_code(token_or_signature: str | bytes) -> str:
    """Short human-typable code bound to a token's signature (pass the token or the signature)."""
    if isinstance(token_or_signature, str):
        sig = _from_text(token_or_signature)[-_SIG_LEN:]
    else:
        sig = token_or_signature
    n = int.from_bytes(hashlib.sha256(b"kafaa-code\x00" + sig).digest()[:5], "big")
    chars = "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in reversed(range(_CODE_CHARS)))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_code(typed: str) -> str | None:
    """Read a code as typed (any case, spaces or dashes, O for 0, I or L for 1); None if not one."""
    cleaned = typed.upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) != _CODE_CHARS or any(c not in _CROCKFORD for c in cleaned):
        return None
    return f"{cleaned[:4]}-{cleaned[4:]}"


def codes_match(expected: str, typed: str) -> bool:
    """Constant-time comparison of a stored code with what a person typed."""
    got = normalize_code(typed)
    return got is not None and hmac.compare_digest(expected.encode(), got.encode())
