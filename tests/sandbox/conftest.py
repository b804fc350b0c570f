import itertools

import pytest

from sandbox import faults
from sandbox.network import CardNetworkClient

_references = itertools.count(1)


def new_reference(prefix: str = "txn_test") -> str:
    return f"{prefix}_{next(_references)}"


@pytest.fixture
def network():
    return CardNetworkClient()


@pytest.fixture(autouse=True)
def no_faults_left_over(request):
    yield
    if "django_db" in request.keywords or "transactional_db" in request.fixturenames:
        faults.clear()


def auth_request(number: str, *, amount: int = 1000, currency: str = "usd", **overrides) -> dict:
    request = {
        "reference": new_reference(),
        "amount": amount,
        "currency": currency,
        "capture": False,
        "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        "merchant": {"id": "acct_test", "name": "Toko Test", "country": "US"},
        "authentication_return_url": "https://gateway.test/payments/3ds/return/pi_123",
    }
    request.update(overrides)
    return request
