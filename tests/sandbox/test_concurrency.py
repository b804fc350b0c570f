import threading

import pytest
from django.db import connection

from sandbox.network import CardNetworkClient, account_state, authorization_count
from tests.sandbox.conftest import auth_request

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # surfaced by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_reference_sent_concurrently_authorizes_once():
    request = auth_request("4242424242424242", amount=900)
    answers = _in_threads(6, lambda _i: CardNetworkClient().authorize(request))
    assert all(isinstance(a, dict) for a in answers), answers
    assert len({a["processor_reference"] for a in answers}) == 1
    assert authorization_count(reference=request["reference"]) == 1
    assert account_state("4242424242424242")["held"] == 900


def test_concurrent_holds_never_exceed_the_credit_limit():
    number = "5555555555554444"
    limit = account_state(number)["credit_limit"]
    share = limit // 4  # in idr, so the amount alone does not look like fraud
    answers = _in_threads(
        6,
        lambda _i: CardNetworkClient().authorize(
            auth_request(number, amount=share, currency="idr")
        ),
    )
    assert all(isinstance(a, dict) for a in answers), answers
    approved = [a for a in answers if a["status"] == "authorized"]
    declined = [a for a in answers if a["decline_code"] == "insufficient_funds"]
    assert (len(approved), len(declined)) == (4, 2)
    assert account_state(number)["held"] == 4 * share
