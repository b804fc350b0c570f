import base64
import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from core.errors import CardError
from payments.models import VaultCard
from payments.vault import (
    VaultDecryptionError,
    VaultKeyError,
    card_fingerprint,
    clear_key_cache,
    vault_reveal,
    vault_rotate,
    vault_store,
)
from payments.vault.crypto import parse_vault_keys

PAN = "4242424242424242"
KEY_A = "A:" + base64.b64encode(b"a" * 32).decode()
KEY_B = "B:" + base64.b64encode(b"b" * 32).decode()


@pytest.fixture(autouse=True)
def fresh_key_cache():
    clear_key_cache()
    yield
    clear_key_cache()


@pytest.mark.django_db
def test_a_stored_card_reveals_the_same_number():
    card = vault_store(number=PAN)
    card = VaultCard.objects.get(pk=card.pk)
    assert vault_reveal(vault_card=card) == PAN
    assert (card.bin, card.last4) == ("424242", "4242")


@pytest.mark.django_db
def test_the_stored_row_holds_no_card_number_in_clear():
    card = VaultCard.objects.get(pk=vault_store(number="5555555555554444").pk)
    blobs = bytes(card.ciphertext) + bytes(card.wrapped_key)
    for needle in ("5555555555554444", "555555555555", "55555555"):
        assert needle.encode() not in blobs
        assert needle not in card.fingerprint
    # The digits are not there in any simple encoding either.
    assert bytes.fromhex("5555555555554444") not in blobs
    assert b"5555555555554444" not in base64.b64decode(base64.b64encode(blobs))


@pytest.mark.django_db
def test_two_rows_of_the_same_card_have_different_ciphertexts():
    first, second = vault_store(number=PAN), vault_store(number=PAN)
    assert bytes(first.ciphertext) != bytes(second.ciphertext)
    assert bytes(first.wrapped_key) != bytes(second.wrapped_key)


@pytest.mark.django_db
def test_a_tampered_ciphertext_is_refused():
    card = vault_store(number=PAN)
    blob = bytearray(bytes(card.ciphertext))
    blob[-1] ^= 0x01
    card.ciphertext = bytes(blob)
    with pytest.raises(VaultDecryptionError):
        vault_reveal(vault_card=card)


@pytest.mark.django_db
def test_a_tampered_wrapped_key_is_refused():
    card = vault_store(number=PAN)
    blob = bytearray(bytes(card.wrapped_key))
    blob[20] ^= 0x80
    card.wrapped_key = bytes(blob)
    with pytest.raises(VaultDecryptionError):
        vault_reveal(vault_card=card)


@pytest.mark.django_db
def test_a_wrapped_key_cannot_be_swapped_in_as_a_ciphertext():
    card = vault_store(number=PAN)
    card.ciphertext, card.wrapped_key = bytes(card.wrapped_key), bytes(card.ciphertext)
    with pytest.raises(VaultDecryptionError):
        vault_reveal(vault_card=card)


@pytest.mark.django_db
def test_a_card_number_with_anything_but_digits_is_refused():
    for bad in ("4242 4242 4242 4242", "4242-4242-4242-4242", "42424242424242x2", "", "123"):
        with pytest.raises(CardError) as caught:
            vault_store(number=bad)
        assert caught.value.code == "invalid_number"
    assert VaultCard.objects.count() == 0


@pytest.mark.django_db
def test_rotation_rewraps_every_row_under_the_new_key_and_they_still_decrypt():
    with override_settings(GATEWAY_VAULT_KEYS=KEY_A):
        cards = [vault_store(number=PAN), vault_store(number="378282246310005")]
        unchanged_ciphertexts = [bytes(c.ciphertext) for c in cards]
    assert {c.key_id for c in cards} == {"A"}

    with override_settings(GATEWAY_VAULT_KEYS=f"{KEY_B},{KEY_A}"):
        clear_key_cache()
        assert vault_rotate(batch_size=1) == 2
        assert vault_rotate() == 0  # idempotent
        rows = list(VaultCard.objects.order_by("id"))
        assert [r.key_id for r in rows] == ["B", "B"]
        assert [bytes(r.ciphertext) for r in rows] == unchanged_ciphertexts
        assert [vault_reveal(vault_card=r) for r in rows] == [PAN, "378282246310005"]

    # Key A is no longer needed: the rows decrypt with B alone.
    with override_settings(GATEWAY_VAULT_KEYS=KEY_B):
        clear_key_cache()
        assert vault_reveal(vault_card=VaultCard.objects.first()) == PAN
    # And not with A alone.
    with override_settings(GATEWAY_VAULT_KEYS=KEY_A):
        clear_key_cache()
        with pytest.raises(VaultKeyError):
            vault_reveal(vault_card=VaultCard.objects.first())


@pytest.mark.django_db
def test_the_rotate_command_prints_how_many_rows_it_rewrapped():
    with override_settings(GATEWAY_VAULT_KEYS=KEY_A):
        vault_store(number=PAN)
    out = io.StringIO()
    with override_settings(GATEWAY_VAULT_KEYS=f"{KEY_B},{KEY_A}"):
        call_command("vault_rotate_keys", stdout=out)
    assert out.getvalue().strip() == "re-wrapped 1 vault card(s)"
    assert VaultCard.objects.get().key_id == "B"


def test_the_fingerprint_is_the_same_for_the_same_card_and_differs_across_keys():
    fingerprint = card_fingerprint(PAN)
    assert card_fingerprint(PAN) == fingerprint
    assert card_fingerprint("4000056655665556") != fingerprint
    assert len(fingerprint) == 64
    with override_settings(GATEWAY_FINGERPRINT_KEY="another-deployment"):
        assert card_fingerprint(PAN) != fingerprint


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("nokey", "entry 1"),
        ("k1:not base64!!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "decodes to 5 bytes"),
        (f"{KEY_A},{KEY_A}", "twice"),
        ("bad id:" + base64.b64encode(b"a" * 32).decode(), "key id"),
    ],
)
def test_a_malformed_vault_key_setting_says_what_is_wrong(raw, message):
    with pytest.raises(VaultKeyError, match=message):
        parse_vault_keys(raw)


def test_the_error_for_a_malformed_key_does_not_echo_the_key():
    secret = base64.b64encode(b"x" * 31).decode()
    with pytest.raises(VaultKeyError) as caught:
        parse_vault_keys(f"k1:{secret}")
    assert secret not in str(caught.value)
