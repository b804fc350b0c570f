"""core.ids: random strings of the asked length, from the whole alphabet, evenly."""

import string
from collections import Counter

from core.ids import new_id, random_string

ALPHABET = string.ascii_letters + string.digits


def test_ids_have_their_prefix_length_and_alphabet():
    assert len(random_string(0)) == 0
    for length in (1, 6, 24, 300):
        drawn = random_string(length)
        assert len(drawn) == length and set(drawn) <= set(ALPHABET)
    pi = new_id("pi")
    assert pi.startswith("pi_") and len(pi) == 27


def test_every_character_is_about_as_likely():
    # 124,000 characters: each of the 62 expected 2,000 times; a bias such as taking
    # every byte modulo 62 (the first 8 characters 5/4 as likely) lands far outside.
    counts = Counter(random_string(124_000))
    assert set(counts) == set(ALPHABET)
    assert max(counts.values()) < 2_250 and min(counts.values()) > 1_750


def test_no_two_ids_alike():
    assert len({new_id("evt") for _ in range(10_000)}) == 10_000
