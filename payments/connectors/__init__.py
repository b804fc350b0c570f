"""Processor connectors (DESIGN.md §7): `get_connector(name)` returns one by name."""

from django.utils.module_loading import import_string

from payments.connectors.base import Connector

CONNECTORS: dict[str, str] = {
    "sandbox": "payments.connectors.sandbox.SandboxConnector",
    # E-wallets, virtual accounts and QRIS (issue #6).
    "sandbox_local": "payments.connectors.sandbox_local.SandboxLocalConnector",
}


def get_connector(name: str = "sandbox") -> Connector:
    """A connector instance by name; ValueError for a name that is not registered."""
    try:
        path = CONNECTORS[name]
    except KeyError:
        raise ValueError(
            f"unknown connector {name!r}; registered: {', '.join(sorted(CONNECTORS))}"
        ) from None
    return import_string(path)()
