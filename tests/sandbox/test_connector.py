import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from payments.connectors import get_connector
from payments.connectors.base import CardAuthorization, Outcome
from payments.connectors.sandbox import SandboxConnector
from payments.vault import vault_store
from sandbox import faults
from sandbox.network import account_state, authorization_count
from tests.sandbox.conftest import new_reference

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.sandbox.urls")]

RETURN_URL = settings.GATEWAY_BASE_URL + "/healthz"  # any page of this server will do


def card_authorization(
    number: str,
    *,
    amount: int = 1500,
    cvc: str | None = "123",
    capture: bool = False,
    reference: str | None = None,
    merchant_country: str = "US",
) -> CardAuthorization:
    return CardAuthorization(
        reference=reference or new_reference(),
        amount=amount,
        currency="usd",
        capture=capture,
        vault_card_id=vault_store(number=number).pk,
        exp_month=12,
        exp_year=2034,
        cvc=cvc,
        merchant_id="acct_test",
        merchant_name="Toko Kopi",
        merchant_country=merchant_country,
        authentication_return_url=RETURN_URL,
    )


@pytest.fixture
def connector():
    return get_connector("sandbox")


def test_get_connector_returns_the_sandbox_connector_and_refuses_unknown_names():
    assert isinstance(get_connector(), SandboxConnector)
    assert get_connector().name == "sandbox"
    with pytest.raises(ValueError, match="unknown connector"):
        get_connector("acme")


def test_an_approved_authorization_maps_to_succeeded_with_the_network_facts(connector):
    result = connector.authorize(card_authorization("4242424242424242"))
    assert result.outcome == Outcome.SUCCEEDED
    assert result.processor_reference.startswith("sbx_auth_")
    assert len(result.authorization_code) == 6
    assert result.network_status == "approved_by_network"
    assert (result.risk_level, result.risk_score) == ("normal", 5)
    assert result.card == {"brand": "visa", "funding": "credit", "country": "US", "last4": "4242"}
    assert result.amount == 1500
    assert result.latency_ms >= 0


def test_a_decline_maps_to_declined_with_stripe_codes(connector):
    result = connector.authorize(card_authorization("4000000000009995"))
    assert result.outcome == Outcome.DECLINED
    assert (result.code, result.decline_code) == ("card_declined", "insufficient_funds")
    assert result.network_status == "declined_by_network"


def test_capture_void_refund_and_inquire_go_through_the_connector(connector):
    auth = card_authorization("5555555555554444", amount=3000)
    assert connector.authorize(auth).outcome == Outcome.SUCCEEDED
    capture_reference = new_reference("cap")
    captured = connector.capture(
        reference=capture_reference,
        authorization_reference=auth.reference,
        amount=2000,
        currency="usd",
    )
    assert (captured.outcome, captured.amount) == (Outcome.SUCCEEDED, 2000)
    refunded = connector.refund(
        reference=new_reference("re"),
        capture_reference=capture_reference,
        amount=500,
        currency="usd",
    )
    assert refunded.outcome == Outcome.SUCCEEDED
    assert account_state("5555555555554444")["spent"] == 1500
    too_much = connector.refund(
        reference=new_reference("re"),
        capture_reference=capture_reference,
        amount=1501,
        currency="usd",
    )
    assert (too_much.outcome, too_much.code) == (Outcome.DECLINED, "amount_too_large")
    assert connector.inquire(reference=capture_reference).outcome == Outcome.SUCCEEDED

    other = card_authorization("5555555555554444", amount=100)
    connector.authorize(other)
    voided = connector.void(
        reference=new_reference("void"), authorization_reference=other.reference
    )
    assert voided.outcome == Outcome.SUCCEEDED
    assert account_state("5555555555554444")["held"] == 0


# --- 3-D Secure -------------------------------------------------------------------------


def _challenge(connector, number: str) -> tuple[CardAuthorization, str]:
    auth = card_authorization(number)
    result = connector.authorize(auth)
    assert result.outcome == Outcome.REQUIRES_ACTION
    assert result.redirect_url.startswith(settings.GATEWAY_BASE_URL + "/sandbox/3ds/sbx_3ds_")
    assert account_state(number)["held"] == 0  # no hold before authentication
    return auth, result.redirect_url


def _submit(redirect_url: str, choice: str):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(redirect_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Complete authentication" in html and "Fail authentication" in html
    assert "<script" not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return browser.post(redirect_url, {"csrfmiddlewaretoken": token, "result": choice}, follow=True)


@pytest.mark.parametrize("number", ["4000002760003184", "4000002500003155", "4000000000003220"])
def test_completing_the_3ds_challenge_approves_and_returns_the_browser(connector, number):
    auth, redirect_url = _challenge(connector, number)
    response = _submit(redirect_url, "complete")
    assert response.redirect_chain == [(RETURN_URL, 302)]
    assert response.status_code == 200  # the return page itself
    final = connector.inquire(reference=auth.reference)
    assert final.outcome == Outcome.SUCCEEDED
    assert len(final.authorization_code) == 6
    assert account_state(number)["held"] == auth.amount
    # The same reference again is the same authorization, never a second one.
    assert connector.authorize(auth).processor_reference == final.processor_reference
    assert authorization_count(reference=auth.reference) == 1
    assert account_state(number)["held"] == auth.amount


def test_failing_the_3ds_challenge_declines_without_a_hold(connector):
    auth, redirect_url = _challenge(connector, "4000002760003184")
    response = _submit(redirect_url, "fail")
    assert response.redirect_chain == [(RETURN_URL, 302)]
    final = connector.inquire(reference=auth.reference)
    assert final.outcome == Outcome.DECLINED
    assert (final.code, final.decline_code) == ("payment_intent_authentication_failure", None)
    assert account_state("4000002760003184")["held"] == 0


def test_a_finished_challenge_cannot_be_replayed_into_another_result(connector):
    auth, redirect_url = _challenge(connector, "4000002760003184")
    _submit(redirect_url, "fail")
    page = Client().get(redirect_url)
    assert "Complete authentication" not in page.content.decode()
    Client().post(redirect_url, {"result": "complete"})  # test client skips CSRF by default
    assert connector.inquire(reference=auth.reference).outcome == Outcome.DECLINED


def test_the_challenge_page_refuses_a_post_without_csrf(connector):
    _auth, redirect_url = _challenge(connector, "4000002760003184")
    response = Client(enforce_csrf_checks=True).post(redirect_url, {"result": "complete"})
    assert response.status_code == 403


def test_an_unknown_challenge_is_404(client):
    assert client.get("/sandbox/3ds/sbx_3ds_nope").status_code == 404


# --- Faults ----------------------------------------------------------------------------


def test_a_timeout_before_processing_is_unknown_and_inquiry_says_it_never_arrived(connector):
    faults.inject("timeout")
    auth = card_authorization("4242424242424242")
    assert connector.authorize(auth).outcome == Outcome.UNKNOWN
    inquiry = connector.inquire(reference=auth.reference)
    assert (inquiry.outcome, inquiry.code) == (Outcome.TRANSIENT, "resource_missing")
    assert authorization_count(reference=auth.reference) == 0
    # Resending the same reference is safe, and now it goes through.
    assert connector.authorize(auth).outcome == Outcome.SUCCEEDED


def test_approve_then_timeout_is_unknown_and_inquiry_tells_the_truth(connector):
    faults.inject("approve_then_timeout")
    auth = card_authorization("4242424242424242", amount=4200)
    result = connector.authorize(auth)
    assert result.outcome == Outcome.UNKNOWN
    assert result.processor_reference is None
    truth = connector.inquire(reference=auth.reference)
    assert truth.outcome == Outcome.SUCCEEDED
    assert len(truth.authorization_code) == 6
    assert authorization_count(reference=auth.reference) == 1
    assert account_state("4242424242424242")["held"] == 4200


def test_a_server_error_is_transient_and_nothing_happened(connector):
    faults.inject("server_error", count=2, operation="*")
    auth = card_authorization("4242424242424242")
    assert connector.authorize(auth).outcome == Outcome.TRANSIENT
    assert connector.authorize(auth).outcome == Outcome.TRANSIENT
    assert authorization_count() == 0
    assert connector.authorize(auth).outcome == Outcome.SUCCEEDED


def test_a_fault_on_capture_leaves_authorizations_alone(connector):
    faults.inject("approve_then_timeout", operation="capture")
    auth = card_authorization("4242424242424242", amount=800)
    assert connector.authorize(auth).outcome == Outcome.SUCCEEDED
    capture_reference = new_reference("cap")
    unknown = connector.capture(
        reference=capture_reference,
        authorization_reference=auth.reference,
        amount=800,
        currency="usd",
    )
    assert unknown.outcome == Outcome.UNKNOWN
    assert connector.inquire(reference=capture_reference).outcome == Outcome.SUCCEEDED
    assert account_state("4242424242424242")["spent"] == 800


def test_a_slow_answer_is_measured_and_one_slower_than_the_timeout_is_unknown():
    faults.inject("latency", count=1, latency_ms=150)
    slow = SandboxConnector(timeout=5).authorize(card_authorization("4242424242424242"))
    assert slow.outcome == Outcome.SUCCEEDED
    assert slow.latency_ms >= 150

    faults.inject("latency", count=1, latency_ms=400)
    auth = card_authorization("4242424242424242")
    impatient = SandboxConnector(timeout=0.1)
    assert impatient.authorize(auth).outcome == Outcome.UNKNOWN
    assert impatient.inquire(reference=auth.reference).outcome == Outcome.SUCCEEDED


def test_a_seeded_fault_rate_gives_the_same_sequence_every_time(connector):
    def run() -> list[str]:
        faults.clear()
        faults.inject("server_error", count=None, rate=0.3, seed=42)
        return [
            connector.authorize(card_authorization("4242424242424242", amount=1)).outcome
            for _ in range(20)
        ]

    first, second = run(), run()
    assert first == second
    assert 2 <= first.count(Outcome.TRANSIENT) <= 12
    assert set(first) == {Outcome.TRANSIENT, Outcome.SUCCEEDED}


def test_faults_clear_removes_every_injected_fault(connector):
    faults.inject("timeout", count=5)
    faults.clear()
    assert connector.authorize(card_authorization("4242424242424242")).outcome == Outcome.SUCCEEDED


def test_inject_refuses_nonsense():
    with pytest.raises(ValueError):
        faults.inject("meltdown")
    with pytest.raises(ValueError):
        faults.inject("timeout", operation="teleport")
    with pytest.raises(ValueError):
        faults.inject("timeout", count=None)


# --- Card data -------------------------------------------------------------------------


def test_no_cvc_or_card_number_is_stored_in_any_sandbox_column_or_log(connector, caplog):
    caplog.set_level(logging.DEBUG)
    cvc = "8461"
    numbers = ["378282246310005", "4000002760003184", "4000000000000127"]
    results = []
    for number in numbers:
        auth = card_authorization(number, cvc=cvc)
        results.append(connector.authorize(auth))
        results.append(connector.inquire(reference=auth.reference))
    faults.inject("approve_then_timeout")
    results.append(connector.authorize(card_authorization("4242424242424242", cvc=cvc)))

    tables = [t for t in connection.introspection.table_names() if t.startswith("sandbox_")]
    assert {"sandbox_issueraccount", "sandbox_authorization"} <= set(tables)
    dump = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(repr(row) for row in cursor.fetchall())
    stored = "\n".join(dump)
    assert stored  # the rows are there
    # The CVC as a value of its own: a hash or a timestamp may hold its digits by chance.
    alone = re.compile(rf"(?<![0-9A-Za-z]){cvc}(?![0-9A-Za-z])")
    assert not alone.search(stored)
    for number in [*numbers, "4242424242424242"]:
        assert number not in stored
    for result in results:
        wire = json.dumps(result.raw) + repr(result)
        assert not alone.search(wire) and not any(n in wire for n in numbers)
    logged = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    assert not alone.search(logged) and not any(n in logged for n in numbers)


def test_a_3ds_challenge_left_open_too_long_fails_as_unauthenticated(connector):
    import datetime as dt

    from sandbox.models import Authorization

    auth, redirect_url = _challenge(connector, "4000002760003184")
    Authorization.objects.filter(reference=auth.reference).update(
        created_at=timezone.now() - dt.timedelta(minutes=16)
    )
    final = connector.inquire(reference=auth.reference)
    assert (final.outcome, final.code) == (
        Outcome.DECLINED,
        "payment_intent_authentication_failure",
    )
    assert final.raw["outcome"]["reason"] == "authentication_expired"
    assert "Complete authentication" not in Client().get(redirect_url).content.decode()


def test_the_faults_command_injects_lists_and_clears(connector):
    out = io.StringIO()
    call_command("sandbox_faults", "inject", "timeout", "--count", "2", stdout=out)
    assert "timeout on authorize remaining=2" in out.getvalue()
    assert connector.authorize(card_authorization("4242424242424242")).outcome == Outcome.UNKNOWN
    call_command("sandbox_faults", "clear", stdout=io.StringIO())
    assert connector.authorize(card_authorization("4242424242424242")).outcome == (
        Outcome.SUCCEEDED
    )
