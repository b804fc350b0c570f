"""The card vault (DESIGN.md §6): AES-256-GCM envelope encryption of card numbers."""

from payments.vault.crypto import (
    VaultDecryptionError,
    VaultKeyError,
    clear_key_cache,
)
from payments.vault.services import card_fingerprint, vault_reveal, vault_rotate, vault_store

__all__ = [
    "VaultDecryptionError",
    "VaultKeyError",
    "card_fingerprint",
    "clear_key_cache",
    "vault_reveal",
    "vault_rotate",
    "vault_store",
]
