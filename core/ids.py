"""Public ids: a short prefix naming the kind of object, then random characters."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


_RANDOM = secrets.SystemRandom()  # the operating system's CSPRNG, as secrets.choice uses


def random_string(length: int) -> str:
    return "".join(_RANDOM.choices(_ALPHABET, k=length))


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{random_string(length)}"
