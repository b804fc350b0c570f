"""Refunds list and customers: filters, pages, a customer's payments, isolation, queries."""

import re

import pytest
from django.urls import reverse

from tests.dashboard.conftest import pay, refund


def _ids(response, prefix: str) -> list[str]:
    return re.findall(rf'<tr data-id="({prefix}_[A-Za-z0-9]+)"', response.content.decode())


def _customer(merchant, email: str, name: str = ""):
    from payments.services.customers import customer_create

    return customer_create(merchant=merchant, livemode=False, email=email, name=name)


def _pay_as(merchant, customer, amount: int):
    from payments.models import PaymentIntent

    intent = pay(merchant, amount)
    PaymentIntent.objects.filter(pk=intent.pk).update(customer=customer)
    return intent


def test_refunds_list_shows_refunds_newest_first_with_their_payment(dashboard_client, merchant):
    one, two = pay(merchant, 10_000), pay(merchant, 20_000)
    first, second = refund(one, 1_000), refund(two, 2_000)
    response = dashboard_client.get(reverse("dashboard:refund-list"))
    assert response.status_code == 200
    assert _ids(response, "re") == [second.public_id, first.public_id]
    body = response.content.decode()
    assert "IDR\xa020.00" in body and one.public_id in body


def test_refunds_list_filters_by_status_and_payment(dashboard_client, merchant):
    one, two = pay(merchant, 10_000), pay(merchant, 20_000)
    first, second = refund(one, 1_000), refund(two)
    url = reverse("dashboard:refund-list")
    assert _ids(dashboard_client.get(url, {"q": two.public_id}), "re") == [second.public_id]
    assert _ids(dashboard_client.get(url, {"q": first.public_id}), "re") == [first.public_id]
    assert _ids(dashboard_client.get(url, {"status": "failed"}), "re") == []
    assert len(_ids(dashboard_client.get(url, {"status": "succeeded"}), "re")) == 2
    assert _ids(dashboard_client.get(url, {"currency": "usd"}), "re") == []


def test_refunds_pages_follow_each_other(dashboard_client, merchant, monkeypatch):
    from dashboard.views import customers as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    intent = pay(merchant, 100_000)
    made = [refund(intent, 1_000).public_id for _ in range(5)]
    url = reverse("dashboard:refund-list")
    seen, after = [], ""
    while True:
        response = dashboard_client.get(url, {"after": after} if after else {})
        seen += _ids(response, "re")
        found = re.search(r'id="next-page" href="\?after=(re_\w+)"', response.content.decode())
        if not found:
            break
        after = found.group(1)
    assert seen == list(reversed(made))


def test_htmx_refund_filtering_answers_only_the_results(dashboard_client, merchant):
    refund(pay(merchant, 10_000))
    response = dashboard_client.get(reverse("dashboard:refund-list"), HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<div id="results">')
    assert "HX-Request" in response["Vary"]


def test_customers_list_searches_by_email_and_name(dashboard_client, merchant, other_merchant):
    ani = _customer(merchant, "ani@example.com", "Ani")
    budi = _customer(merchant, "budi@example.com", "Budi Santoso")
    _customer(other_merchant, "ani@elsewhere.example")
    url = reverse("dashboard:customer-list")
    assert _ids(dashboard_client.get(url), "cus") == [budi.public_id, ani.public_id]
    assert _ids(dashboard_client.get(url, {"q": "ANI@"}), "cus") == [ani.public_id]
    assert _ids(dashboard_client.get(url, {"q": "santoso"}), "cus") == [budi.public_id]
    assert _ids(dashboard_client.get(url, {"q": ani.public_id}), "cus") == [ani.public_id]


def test_customer_page_lists_their_payments_and_only_theirs(dashboard_client, merchant):
    ani = _customer(merchant, "ani@example.com")
    mine = [_pay_as(merchant, ani, 10_000), _pay_as(merchant, ani, 12_000)]
    pay(merchant, 99_000)
    response = dashboard_client.get(reverse("dashboard:customer-detail", args=[ani.public_id]))
    assert response.status_code == 200
    assert _ids(response, "pi") == [p.public_id for p in reversed(mine)]
    last4 = mine[0].payment_method.details["last4"]
    assert f"•••• {last4}" in response.content.decode()


def test_another_merchants_customer_is_404(dashboard_client, other_merchant):
    theirs = _customer(other_merchant, "x@elsewhere.example")
    url = reverse("dashboard:customer-detail", args=[theirs.public_id])
    assert dashboard_client.get(url).status_code == 404


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_every_role_may_read_refunds_and_customers(client_as, role):
    c = client_as(role, mfa=False)
    assert c.get(reverse("dashboard:refund-list")).status_code == 200
    assert c.get(reverse("dashboard:customer-list")).status_code == 200


def test_refunds_and_customers_make_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    ani = _customer(merchant, "ani@example.com")
    refund(_pay_as(merchant, ani, 10_000), 1_000)
    # session, user, membership + the page's own reads (the list and its cursor-free page).
    pages = {
        reverse("dashboard:refund-list"): 7,
        reverse("dashboard:customer-list"): 7,
        reverse("dashboard:customer-detail", args=[ani.public_id]): 8,
    }
    for url, count in pages.items():
        dashboard_client.get(url)  # warm: session, content types
        with django_assert_num_queries(count):
            dashboard_client.get(url)
    for _ in range(3):
        intent = _pay_as(merchant, _customer(merchant, "more@example.com"), 5_000)
        refund(intent, 500)
        refund(_pay_as(merchant, ani, 7_000), 700)
    for url, count in pages.items():
        with django_assert_num_queries(count):
            dashboard_client.get(url)


def test_refunds_and_customer_pages_show_no_more_than_bin_and_last_4(dashboard_client, merchant):
    from payments.services.payment_intents import payment_intent_confirm, payment_intent_create
    from tests.settlement.conftest import fresh_card

    ani = _customer(merchant, "ani@example.com")
    number = fresh_card()
    intent = payment_intent_create(
        merchant=merchant, livemode=False, amount=5_000, currency="idr", customer=ani
    )
    intent = payment_intent_confirm(
        intent=intent,
        payment_method_data={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"},
        },
    )
    refund(intent, 1_000)
    pages = [
        reverse("dashboard:refund-list"),
        reverse("dashboard:customer-detail", args=[ani.public_id]),
        reverse("dashboard:balance"),
    ]
    for url in pages:
        text = dashboard_client.get(url).content.decode()
        if url != reverse("dashboard:balance"):
            assert number[-4:] in text
        for size in range(9, len(number) + 1):
            for start in range(len(number) - size + 1):
                assert number[start : start + size] not in text
