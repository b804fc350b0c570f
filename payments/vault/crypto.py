"""AES-256-GCM envelope encryption for the card vault (DESIGN.md §6).

A row's PAN is sealed with its own random data key; the data key is sealed ("wrapped") with a
vault key from GATEWAY_VAULT_KEYS. Both seals carry associated data naming what they are, so
a wrapped key cannot be passed off as a PAN ciphertext (or the reverse), and a data key
wrapped under one key id cannot be relabelled as another's.

Blob layout: version byte (1) + nonce (12) + AES-GCM ciphertext and tag.
"""

import base64
import binascii
import functools
import hmac
import os
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = b"\x01"
_NONCE_BYTES = 12
PAN_AAD = b"gateway.vault.v1:pan"


class VaultKeyError(Exception):
    """GATEWAY_VAULT_KEYS is malformed, or a row names a key that is not configured."""


class VaultDecryptionError(Exception):
    """A ciphertext or wrapped key failed authentication: tampered, or the wrong key."""


@dataclass(frozen=True)
class VaultKeyring:
    active_key_id: str
    keys: dict[str, bytes]

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise VaultKeyError(
                f"vault key {key_id!r} is not in GATEWAY_VAULT_KEYS "
                f"(configured: {', '.join(self.keys)})"
            ) from None


@functools.lru_cache(maxsize=8)
def parse_vault_keys(raw: str) -> VaultKeyring:
    """Parse "key_id:base64(32 bytes),key_id2:..."; the first key encrypts, all decrypt.

    Cached by the raw string, so each configuration is parsed once; a changed setting (tests,
    override_settings) is parsed afresh. Errors never include key material.
    """
    entries = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not entries:
        raise VaultKeyError("GATEWAY_VAULT_KEYS is empty: expected 'key_id:base64(32 bytes),...'")
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id or not encoded.strip():
            raise VaultKeyError(
                f"GATEWAY_VAULT_KEYS entry {position} is not 'key_id:base64(32 bytes)'"
            )
        if len(key_id) > 32 or not all(c.isalnum() or c in "-_." for c in key_id):
            raise VaultKeyError(
                f"GATEWAY_VAULT_KEYS entry {position}: key id must be 1-32 characters "
                "of letters, digits, '-', '_' or '.'"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise VaultKeyError(f"GATEWAY_VAULT_KEYS key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise VaultKeyError(
                f"GATEWAY_VAULT_KEYS key {key_id!r} decodes to {len(key)} bytes, expected 32"
            )
        if key_id in keys:
            raise VaultKeyError(f"GATEWAY_VAULT_KEYS names key {key_id!r} twice")
        keys[key_id] = key
    return VaultKeyring(active_key_id=next(iter(keys)), keys=keys)


def keyring() -> VaultKeyring:
    return parse_vault_keys(settings.GATEWAY_VAULT_KEYS)


def clear_key_cache() -> None:
    parse_vault_keys.cache_clear()


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    blob = bytes(blob)
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
        raise VaultDecryptionError("vault blob is malformed")
    nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise VaultDecryptionError("vault blob failed authentication") from None


def _wrap_aad(key_id: str) -> bytes:
    return b"gateway.vault.v1:data-key:" + key_id.encode()


def wrap_data_key(data_key: bytes, *, key_id: str, ring: VaultKeyring) -> bytes:
    return _seal(ring.key(key_id), data_key, _wrap_aad(key_id))


def unwrap_data_key(wrapped: bytes, *, key_id: str, ring: VaultKeyring) -> bytes:
    return _open(ring.key(key_id), wrapped, _wrap_aad(key_id))


def encrypt_pan(pan: str, *, ring: VaultKeyring) -> tuple[str, bytes, bytes]:
    """Returns (key_id, wrapped_key, ciphertext) under the active key."""
    data_key = AESGCM.generate_key(bit_length=256)
    ciphertext = _seal(data_key, pan.encode("ascii"), PAN_AAD)
    key_id = ring.active_key_id
    return key_id, wrap_data_key(data_key, key_id=key_id, ring=ring), ciphertext


def decrypt_pan(*, key_id: str, wrapped_key: bytes, ciphertext: bytes, ring: VaultKeyring) -> str:
    data_key = unwrap_data_key(wrapped_key, key_id=key_id, ring=ring)
    return _open(data_key, ciphertext, PAN_AAD).decode("ascii")


def fingerprint(pan: str) -> str:
    key = settings.GATEWAY_FINGERPRINT_KEY
    if not key:
        raise VaultKeyError("GATEWAY_FINGERPRINT_KEY is empty")
    return hmac.new(key.encode(), pan.encode("ascii"), sha256).hexdigest()
