"""A parallel password guess against one account (issue #9): allauth's login_failed limit
(10 per 30 minutes per account, counted under a cache lock in the shared cache) stops all
but ten guesses, even when every guess comes from another address and they all arrive at
once; the right password is then refused until the lockout ends."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.dashboard.conftest import PASSWORD, make_user

GUESSES = 100
WRONG = b"The email address and/or password you specified are not correct."
LOCKED = b"Too many failed login attempts. Try again later."


@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_cache):
    """The cache (counters, rate limits) starts and ends empty: fresh_cache."""


def _outcome(response) -> str:
    if response.status_code == 429 or LOCKED in response.content:
        return "locked"
    if response.status_code == 200 and WRONG in response.content:
        return "wrong"
    return f"other {response.status_code}"


@pytest.mark.django_db(transaction=True)
def test_a_hundred_parallel_wrong_passwords_get_at_most_ten_evaluated(merchant):
    from merchants.models import Membership

    email = "target@toko.example"
    Membership.objects.create(user=make_user(email), merchant=merchant, role="owner")
    url = reverse("account_login")
    start = threading.Barrier(GUESSES)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        try:
            client = Client(REMOTE_ADDR=f"10.8.{i // 256}.{i % 256}")  # a new address each
            start.wait(timeout=30)
            outcome = _outcome(client.post(url, {"login": email, "password": f"guess-{i}"}))
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    wrong, locked = outcomes.count("wrong"), outcomes.count("locked")
    print(f"{GUESSES} parallel guesses: {wrong} evaluated as wrong, {locked} locked out")
    assert len(outcomes) == GUESSES
    assert wrong + locked == GUESSES, sorted(set(outcomes))
    assert 1 <= wrong <= 10
    assert locked >= GUESSES - 10

    right = _outcome(
        Client(REMOTE_ADDR="10.9.9.9").post(url, {"login": email, "password": PASSWORD})
    )
    assert right == "locked"
    client = Client(REMOTE_ADDR="10.9.9.9")
    client.post(url, {"login": email, "password": PASSWORD})
    assert client.get(reverse("dashboard:home")).status_code == 302  # not logged in


@pytest.mark.django_db(transaction=True)
def test_attempts_that_allauths_own_limit_refused_still_count_toward_the_lockout(
    merchant, monkeypatch
):
    """Under load allauth's list-based limit may refuse some of the first ten guesses; they
    are attempts all the same, so the right password stays locked out afterwards."""
    from allauth.account import adapter as allauth_adapter

    from merchants.models import Membership

    email = "target2@toko.example"
    Membership.objects.create(user=make_user(email), merchant=merchant, role="owner")
    real_consume = allauth_adapter.ratelimit.consume
    refused = {"left": 5}

    def consume(request, *, action, **kwargs):
        if action == "login_failed" and refused["left"]:
            refused["left"] -= 1
            return None  # allauth says "too many" for these five
        return real_consume(request, action=action, **kwargs)

    monkeypatch.setattr(allauth_adapter.ratelimit, "consume", consume)
    url = reverse("account_login")
    outcomes = [
        _outcome(Client(REMOTE_ADDR=f"10.7.0.{i}").post(url, {"login": email, "password": "x"}))
        for i in range(10)
    ]
    assert outcomes.count("locked") == 5 and outcomes.count("wrong") == 5
    right = Client(REMOTE_ADDR="10.7.1.1").post(url, {"login": email, "password": PASSWORD})
    assert _outcome(right) == "locked"
