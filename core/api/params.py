"""Stripe's bracket notation: `metadata[order]=42`, `items[0][price]=p`, `expand[]=x`.

Form bodies and query strings are flat lists of (name, value) pairs; this module turns them
into the nested dicts and lists a JSON body would carry, and names a nested parameter back
in bracket notation for error messages (`payment_method_data[card][number]`).
"""

import re
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl

from core.errors import InvalidRequestError

# A name, then any number of [segments]; a segment holds anything but brackets.
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class _Auto:
    """Marks a container built by `[]` or `[0]`: turned into a list once parsing ends."""


def param_name(path: Sequence[str | int]) -> str:
    """("payment_method_data", "card", "number") -> "payment_method_data[card][number]"."""
    if not path:
        return ""
    head, *rest = path
    return str(head) + "".join(f"[{part}]" for part in rest)


def _split(name: str) -> list[str]:
    match = _KEY.match(name)
    if not match:
        raise InvalidRequestError(
            f"Invalid parameter name: {name}. Nested parameters use brackets, "
            "for example metadata[key]=value or items[0][price]=value.",
            code="parameter_invalid",
            param=name,
        )
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _conflict(name: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid parameter {name}: it is given both as a value and as a nested object.",
        code="parameter_invalid",
        param=name,
    )


def _is_list_key(segment: str) -> bool:
    return segment == "" or segment.isdigit()


def nest(pairs: Iterable[tuple[str, str]]) -> dict:
    """Build nested dicts and lists from bracketed names. Later scalars win over earlier."""
    root: dict = {}
    for name, value in pairs:
        segments = _split(name)
        container: dict = root
        for depth, segment in enumerate(segments):
            last = depth == len(segments) - 1
            if _is_list_key(segment) and depth > 0:
                # Lists are dicts keyed by position until the end (so `[3]` before `[1]`
                # and sparse indexes still work); `[]` appends, or fills the last element
                # when it does not yet have the next key (`items[][a]=1&items[][b]=2`).
                if not container.get(_Auto, False) and any(k is not _Auto for k in container):
                    raise _conflict(param_name(segments[:depth]))
                container[_Auto] = True
                if segment == "":
                    positions = [k for k in container if k is not _Auto]
                    nxt = segments[depth + 1] if not last else None
                    previous = container.get(positions[-1]) if positions else None
                    if nxt is not None and isinstance(previous, dict) and nxt not in previous:
                        segment = positions[-1]
                    else:
                        segment = str(len(positions))
                else:
                    segment = str(int(segment))
            elif container.get(_Auto):
                raise _conflict(param_name(segments[:depth]))
            if last:
                if isinstance(container.get(segment), dict):
                    raise _conflict(param_name(segments[: depth + 1]))
                container[segment] = value
            else:
                child = container.setdefault(segment, {})
                if not isinstance(child, dict):
                    raise _conflict(param_name(segments[: depth + 1]))
                container = child
    return _finish(root)


def _finish(node):
    if not isinstance(node, dict):
        return node
    if node.pop(_Auto, False):
        return [_finish(node[key]) for key in sorted(node, key=int)]
    return {key: _finish(value) for key, value in node.items()}


def parse_query(query: str) -> dict:
    """Parse a query string or form body (already decoded to text)."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:  # e.g. more fields than max_num_fields
        raise InvalidRequestError(f"Invalid request parameters: {exc}") from exc
    return nest(pairs)
