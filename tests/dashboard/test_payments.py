"""Payments pages: list, filters, search, pages, CSV, the payment page and its actions."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from merchants.models import AuditEvent
from payments.models import Refund
from tests.dashboard.conftest import pay


def _ids(response) -> list[str]:
    import re

    return re.findall(r'<tr data-id="(pi_[A-Za-z0-9]+)"', response.content.decode())


@pytest.fixture
def payments(merchant):
    """Four payments, newest last: 100.00 and 250.00 captured, 75.00 uncaptured, 40.00 captured."""
    return [
        pay(merchant, 10_000),
        pay(merchant, 25_000),
        pay(merchant, 7_500, manual=True),
        pay(merchant, 4_000),
    ]


def test_payments_list_shows_the_merchants_payments_newest_first(dashboard_client, payments):
    response = dashboard_client.get(reverse("dashboard:payment-list"))
    assert response.status_code == 200
    assert _ids(response) == [p.public_id for p in reversed(payments)]
    assert "Uncaptured" in response.content.decode()


def test_payments_list_filters_by_status_amount_and_date(dashboard_client, payments):
    url = reverse("dashboard:payment-list")
    only_uncaptured = dashboard_client.get(url, {"status": "requires_capture"})
    assert _ids(only_uncaptured) == [payments[2].public_id]
    mid = dashboard_client.get(url, {"amount_min": "50", "amount_max": "200"})
    assert _ids(mid) == [payments[2].public_id, payments[0].public_id]
    today = payments[0].created_at.astimezone().date().isoformat()
    assert len(_ids(dashboard_client.get(url, {"created_from": "2000-01-01"}))) == 4
    assert _ids(dashboard_client.get(url, {"created_to": "2000-01-01"})) == []
    assert dashboard_client.get(url, {"created_from": today, "method": "card"}).status_code == 200
    assert _ids(dashboard_client.get(url, {"method": "gopay"})) == []


def test_search_finds_a_payment_by_the_last_4_digits_of_its_card(dashboard_client, payments):
    last4 = payments[1].payment_method.details["last4"]
    response = dashboard_client.get(reverse("dashboard:payment-list"), {"q": last4})
    assert _ids(response) == [payments[1].public_id]


def test_search_finds_a_payment_by_id_and_by_email(dashboard_client, merchant, payments):
    from payments.models import PaymentIntent

    url = reverse("dashboard:payment-list")
    assert _ids(dashboard_client.get(url, {"q": payments[3].public_id})) == [payments[3].public_id]
    PaymentIntent.objects.filter(pk=payments[0].pk).update(receipt_email="ani@example.com")
    assert _ids(dashboard_client.get(url, {"q": "ANI@example.com"})) == [payments[0].public_id]


def test_htmx_filtering_answers_only_the_results_fragment(dashboard_client, payments):
    response = dashboard_client.get(
        reverse("dashboard:payment-list"), {"status": "succeeded"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert "<html" not in body
    assert len(_ids(response)) == 3
    assert "HX-Request" in response["Vary"]


def test_pages_follow_each_other_without_gaps_or_repeats(dashboard_client, merchant, settings):
    from dashboard.views import payments as views

    made = [pay(merchant, 1_000 + i) for i in range(5)]
    expected = [p.public_id for p in reversed(made)]
    original = views.PAGE_SIZE
    views.PAGE_SIZE = 2
    try:
        url = reverse("dashboard:payment-list")
        first = dashboard_client.get(url)
        second = dashboard_client.get(url, {"after": _ids(first)[-1]})
        third = dashboard_client.get(url, {"after": _ids(second)[-1]})
        back = dashboard_client.get(url, {"before": _ids(third)[0]})
    finally:
        views.PAGE_SIZE = original
    assert _ids(first) + _ids(second) + _ids(third) == expected
    assert _ids(back) == _ids(second)
    assert 'id="next-page"' not in third.content.decode()


def test_csv_export_downloads_exactly_the_filtered_rows(dashboard_client, payments):
    response = dashboard_client.get(
        reverse("dashboard:payment-export"), {"status": "succeeded", "amount_min": "50"}
    )
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["id"] for r in rows] == [payments[1].public_id, payments[0].public_id]
    assert rows[0]["amount"] == "25000"
    assert rows[0]["card_last4"] == payments[1].payment_method.details["last4"]


def test_no_page_or_export_shows_more_than_bin_and_last_4(dashboard_client, merchant):
    from payments.services.payment_intents import payment_intent_confirm, payment_intent_create
    from tests.settlement.conftest import fresh_card

    number = fresh_card()
    intent = payment_intent_create(merchant=merchant, livemode=False, amount=5_000, currency="idr")
    payment_intent_confirm(
        intent=intent,
        payment_method_data={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"},
        },
    )
    pages = [
        dashboard_client.get(reverse("dashboard:payment-list")).content,
        dashboard_client.get(reverse("dashboard:payment-detail", args=[intent.public_id])).content,
        b"".join(dashboard_client.get(reverse("dashboard:payment-export")).streaming_content),
        dashboard_client.get(reverse("dashboard:home")).content,
    ]
    for body in pages:
        text = body.decode()
        assert number[-4:] in text
        # Nothing between BIN and last 4: no run of the number longer than a BIN (8).
        for size in range(9, len(number) + 1):
            for start in range(len(number) - size + 1):
                assert number[start : start + size] not in text


def test_payment_page_shows_the_timeline_transactions_outcome_and_risk(dashboard_client, payments):
    intent = payments[0]
    response = dashboard_client.get(reverse("dashboard:payment-detail", args=[intent.public_id]))
    body = response.content.decode()
    assert "payment_intent.succeeded" in body
    assert "authorize" in body  # the processor transaction
    assert 'id="risk"' in body and "normal" in body
    assert 'id="refund-form"' in body


def test_refund_through_htmx_updates_the_payment_in_place(dashboard_client, merchant, payments):
    intent = payments[1]
    url = reverse("dashboard:payment-refund", args=[intent.public_id])
    response = dashboard_client.post(
        url, {"amount": "100.00", "reason": "requested_by_customer"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="payment">')
    assert "Partially refunded" in body
    refund = Refund.objects.get(payment_intent=intent)
    assert (refund.amount, refund.reason, refund.status) == (
        10_000,
        "requested_by_customer",
        "succeeded",
    )
    assert refund.public_id in body
    event = AuditEvent.objects.get(merchant=merchant, action="payment_intent.refund")
    assert event.object_id == refund.public_id
    assert event.data["amount"] == 10_000
    assert event.actor_email == "owner@toko.example"


def test_a_refund_above_what_is_left_is_refused_with_the_reason(dashboard_client, payments):
    intent = payments[3]  # 40.00
    response = dashboard_client.post(
        reverse("dashboard:payment-refund", args=[intent.public_id]),
        {"amount": "50"},
        HTTP_HX_REQUEST="true",
    )
    assert "greater than unrefunded amount" in response.content.decode()
    assert not Refund.objects.filter(payment_intent=intent).exists()


def test_refund_without_javascript_redirects_back_to_the_payment(dashboard_client, payments):
    intent = payments[0]
    response = dashboard_client.post(
        reverse("dashboard:payment-refund", args=[intent.public_id]), {"amount": ""}
    )
    assert response["Location"] == reverse("dashboard:payment-detail", args=[intent.public_id])
    page = dashboard_client.get(response["Location"])
    assert "Refunded" in page.content.decode()


def test_capture_part_of_an_uncaptured_payment(dashboard_client, merchant, payments):
    intent = payments[2]
    response = dashboard_client.post(
        reverse("dashboard:payment-capture", args=[intent.public_id]),
        {"amount": "50"},
        HTTP_HX_REQUEST="true",
    )
    intent.refresh_from_db()
    assert (intent.status, intent.amount_received) == ("succeeded", 5_000)
    assert "Succeeded" in response.content.decode()
    assert AuditEvent.objects.filter(merchant=merchant, action="payment_intent.capture").exists()


def test_cancel_an_uncaptured_payment(dashboard_client, payments):
    intent = payments[2]
    dashboard_client.post(
        reverse("dashboard:payment-cancel", args=[intent.public_id]),
        {"reason": "requested_by_customer"},
        HTTP_HX_REQUEST="true",
    )
    intent.refresh_from_db()
    assert (intent.status, intent.cancellation_reason) == ("canceled", "requested_by_customer")


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_a_viewer_sees_no_refund_button_and_the_server_refuses_the_post(client_as, payments, role):
    c = client_as(role)
    intent = payments[0]
    page = c.get(reverse("dashboard:payment-detail", args=[intent.public_id]))
    assert page.status_code == 200
    assert 'id="refund-form"' not in page.content.decode()
    response = c.post(reverse("dashboard:payment-refund", args=[intent.public_id]), {"amount": ""})
    assert response.status_code == 403
    assert not Refund.objects.filter(payment_intent=intent).exists()
    capture = c.post(reverse("dashboard:payment-capture", args=[payments[2].public_id]))
    assert capture.status_code == 403


def test_a_developer_may_refund(client_as, payments):
    c = client_as("developer")
    response = c.post(
        reverse("dashboard:payment-refund", args=[payments[0].public_id]),
        {"amount": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Refund.objects.filter(payment_intent=payments[0]).count() == 1


def test_another_merchants_payment_id_in_the_url_is_404(dashboard_client, other_merchant):
    theirs = pay(other_merchant, 10_000)
    for name in ("payment-detail",):
        assert (
            dashboard_client.get(reverse(f"dashboard:{name}", args=[theirs.public_id])).status_code
            == 404
        )
    for name in ("payment-refund", "payment-capture", "payment-cancel"):
        response = dashboard_client.post(reverse(f"dashboard:{name}", args=[theirs.public_id]))
        assert response.status_code == 404
    assert not Refund.objects.filter(payment_intent=theirs).exists()
    assert _ids(dashboard_client.get(reverse("dashboard:payment-list"))) == []


def test_a_live_mode_session_does_not_see_test_payments(dashboard_client, payments):
    dashboard_client.post(reverse("dashboard:mode-switch"), {"mode": "live"})
    assert _ids(dashboard_client.get(reverse("dashboard:payment-list"))) == []
    url = reverse("dashboard:payment-detail", args=[payments[0].public_id])
    assert dashboard_client.get(url).status_code == 404


@pytest.mark.parametrize(
    "name,args",
    [
        ("payment-refund", True),
        ("payment-capture", True),
        ("payment-cancel", True),
        ("mode-switch", False),
        ("apikey-create", False),
        ("webhookendpoint-create", False),
    ],
)
def test_every_dashboard_post_without_the_csrf_token_gets_403(owner, payments, name, args):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    url = reverse(f"dashboard:{name}", args=[payments[2].public_id] if args else [])
    assert strict.post(url, {"amount": ""}).status_code == 403
    payments[2].refresh_from_db()
    assert payments[2].status == "requires_capture"
    assert not Refund.objects.exists()


def test_the_payments_list_makes_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    url = reverse("dashboard:payment-list")
    for _ in range(2):
        pay(merchant, 1_000)
    dashboard_client.get(url)  # warm: session, content types
    with django_assert_num_queries(7) as first:
        dashboard_client.get(url, {"q": "", "status": "succeeded"})
    for _ in range(4):
        pay(merchant, 2_000, manual=True)
    with django_assert_num_queries(len(first.captured_queries)):
        dashboard_client.get(url, {"status": ""})
    cursor = _last_id(merchant)
    with django_assert_num_queries(len(first.captured_queries) + 1):  # + the cursor row
        dashboard_client.get(url, {"after": cursor})


def _last_id(merchant) -> str:
    from payments.models import PaymentIntent

    return PaymentIntent.objects.filter(merchant=merchant).order_by("-created_at").first().public_id


def test_the_payment_page_makes_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    one = pay(merchant, 10_000)
    dashboard_client.get(reverse("dashboard:payment-detail", args=[one.public_id]))
    with django_assert_num_queries(11) as first:
        dashboard_client.get(reverse("dashboard:payment-detail", args=[one.public_id]))
    busy = pay(merchant, 10_000)
    from tests.dashboard.conftest import refund

    for _ in range(3):
        refund(busy, 1_000)
    with django_assert_num_queries(len(first.captured_queries)):
        dashboard_client.get(reverse("dashboard:payment-detail", args=[busy.public_id]))


def test_search_by_email_finds_the_customers_and_the_checkout_sessions_payments(
    dashboard_client, merchant, other_merchant, payments
):
    from payments.models import CheckoutSession, PaymentIntent
    from payments.services.checkout import checkout_session_create
    from payments.services.customers import customer_create

    url = reverse("dashboard:payment-list")
    budi = customer_create(merchant=merchant, livemode=False, email="budi@example.com")
    PaymentIntent.objects.filter(pk=payments[1].pk).update(customer=budi)
    session = checkout_session_create(
        merchant=merchant,
        livemode=False,
        success_url="https://toko.example/ok",
        amount=10_000,
        currency="idr",
        customer_email="sari@example.com",
    )
    CheckoutSession.objects.filter(pk=session.pk).update(payment_intent=payments[2])
    # The same address at another merchant finds nothing here.
    theirs = customer_create(merchant=other_merchant, livemode=False, email="sari@example.com")
    PaymentIntent.objects.filter(pk=payments[3].pk).update(customer=theirs)
    assert _ids(dashboard_client.get(url, {"q": "Budi@Example.com"})) == [payments[1].public_id]
    assert _ids(dashboard_client.get(url, {"q": "sari@example.com"})) == [payments[2].public_id]
    assert _ids(dashboard_client.get(url, {"q": "nobody@example.com"})) == []
