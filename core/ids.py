"""Public ids: a short prefix naming the kind of object, then random characters."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
# Bytes from this value up are dropped: below it every character has the same 4 bytes.
_LIMIT = 256 - 256 % len(_ALPHABET)


def random_string(length: int) -> str:
    """`length` characters drawn uniformly from letters and digits, from the operating
    system's CSPRNG (secrets): one read of it for all of them, almost always."""
    chars: list[str] = []
    while len(chars) < length:
        drawn = secrets.token_bytes(length + 8)
        chars.extend(_ALPHABET[byte % len(_ALPHABET)] for byte in drawn if byte < _LIMIT)
    return "".join(chars[:length])


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{random_string(length)}"
