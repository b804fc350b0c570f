"""The card vault: the only code that sees a card number (DESIGN.md §6)."""

from django.db import transaction

from core import writes
from core.errors import CardError
from payments.models import VaultCard
from payments.vault import crypto


def _normalized_number(number: str) -> str:
    if not isinstance(number, str) or not number.isascii() or not number.isdigit():
        raise CardError("Your card number is invalid.", code="invalid_number", param="number")
    if not 12 <= len(number) <= 19:
        raise CardError("Your card number is invalid.", code="invalid_number", param="number")
    return number


def card_fingerprint(number: str) -> str:
    """HMAC-SHA256 of the PAN under GATEWAY_FINGERPRINT_KEY, hex: the same card gives the same
    fingerprint within one deployment, and nothing about the number can be guessed from it
    without the key."""
    return crypto.fingerprint(_normalized_number(number))


def vault_store(*, number: str) -> VaultCard:
    """Encrypt and store a card number (digits only, 12-19 of them; Luhn is the caller's).

    Stores the ciphertext under the active vault key, the HMAC fingerprint, the BIN (first
    6 digits) and the last 4. Never logs the number. Raises CardError(code="invalid_number").
    In a write batch (core.writes) the row is written when the batch is sent.
    """
    number = _normalized_number(number)
    key_id, wrapped_key, ciphertext = crypto.encrypt_pan(number, ring=crypto.keyring())
    return writes.insert(
        VaultCard(
            key_id=key_id,
            wrapped_key=wrapped_key,
            ciphertext=ciphertext,
            fingerprint=crypto.fingerprint(number),
            bin=number[:6],
            last4=number[-4:],
        )
    )


def vault_reveal(*, vault_card: VaultCard) -> str:
    """The card number in clear. Only connectors call this, at the moment of authorization,
    and keep the result in memory for that one request.

    Raises crypto.VaultKeyError if the row's key is not configured, and
    crypto.VaultDecryptionError if the row was tampered with.
    """
    return crypto.decrypt_pan(
        key_id=vault_card.key_id,
        wrapped_key=bytes(vault_card.wrapped_key),
        ciphertext=bytes(vault_card.ciphertext),
        ring=crypto.keyring(),
    )


def vault_rotate(*, batch_size: int = 500) -> int:
    """Re-wrap every row whose key_id is not the active vault key; returns how many changed.

    Only the data keys are re-wrapped (the PAN ciphertext does not change). Rows are read in
    id order, batch by batch; each row is written by a conditional update on its old key_id
    in its own short transaction, so a concurrent rotation or a crash midway is harmless and
    running it again finishes the job (idempotent). Holds no lock across batches.
    """
    ring = crypto.keyring()
    active = ring.active_key_id
    rotated = 0
    last_id = 0
    while True:
        batch = list(
            VaultCard.objects.filter(id__gt=last_id)
            .exclude(key_id=active)
            .order_by("id")
            .values_list("id", "key_id", "wrapped_key")[:batch_size]
        )
        if not batch:
            return rotated
        for row_id, old_key_id, wrapped in batch:
            data_key = crypto.unwrap_data_key(bytes(wrapped), key_id=old_key_id, ring=ring)
            rewrapped = crypto.wrap_data_key(data_key, key_id=active, ring=ring)
            with transaction.atomic():
                rotated += VaultCard.objects.filter(id=row_id, key_id=old_key_id).update(
                    key_id=active, wrapped_key=rewrapped
                )
        last_id = batch[-1][0]
