"""List pages (core.api.pagination) as a client walks them, over /v1/customers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Customer
from payments.services.customers import customer_create

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def customers(merchant):
    """25 customers, one a minute; the last two share a second (ties break by id)."""
    made = []
    for i in range(25):
        customer = customer_create(merchant=merchant, livemode=False, name=f"c{i}")
        at = BASE + timedelta(minutes=min(i, 23))
        Customer.objects.filter(pk=customer.pk).update(created_at=at)
        made.append(customer.public_id)
    return made  # oldest first


def ids(response) -> list[str]:
    return [c["id"] for c in response.json()["data"]]


def test_the_first_page_is_the_ten_newest(api_client, customers):
    response = api_client.get("/v1/customers")
    body = response.json()
    assert ids(response) == customers[::-1][:10]
    assert body["has_more"] is True
    assert body["url"] == "/v1/customers"


def test_walking_forward_with_starting_after_visits_every_customer_once(api_client, customers):
    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=7" + (f"&starting_after={cursor}" if cursor else "")
        body = api_client.get(f"/v1/customers?{query}").json()
        seen += [c["id"] for c in body["data"]]
        pages += 1
        if not body["has_more"]:
            break
        cursor = body["data"][-1]["id"]
    assert seen == customers[::-1]
    assert pages == 4


def test_walking_back_with_ending_before_returns_newest_first_pages(api_client, customers):
    oldest = customers[0]
    response = api_client.get(f"/v1/customers?limit=5&ending_before={oldest}")
    assert ids(response) == customers[1:6][::-1]
    assert response.json()["has_more"] is True
    newest_page = api_client.get(f"/v1/customers?limit=5&ending_before={customers[20]}")
    assert ids(newest_page) == customers[21:][::-1]
    assert newest_page.json()["has_more"] is False


def test_created_filters_bound_the_list(api_client, customers):
    start = int((BASE + timedelta(minutes=5)).timestamp())
    end = int((BASE + timedelta(minutes=9)).timestamp())
    response = api_client.get(f"/v1/customers?created[gte]={start}&created[lt]={end}")
    assert ids(response) == customers[5:9][::-1]
    exact = api_client.get(f"/v1/customers?created={start}")
    assert ids(exact) == [customers[5]]
    gt_lte = api_client.get(f"/v1/customers?created[gt]={start}&created[lte]={end}&limit=100")
    assert ids(gt_lte) == customers[6:10][::-1]


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1"])
def test_a_bad_limit_is_a_400_naming_limit(api_client, limit):
    response = api_client.get(f"/v1/customers?limit={limit}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


def test_an_unknown_cursor_is_a_400_resource_missing(api_client, customers):
    response = api_client.get("/v1/customers?starting_after=cus_nope")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("resource_missing", "starting_after")
    assert error["message"] == "No such customer: 'cus_nope'"


def test_another_merchants_id_is_an_unknown_cursor(api_client, customers, other_merchant):
    theirs = customer_create(merchant=other_merchant, livemode=False)
    response = api_client.get(f"/v1/customers?starting_after={theirs.public_id}")
    assert response.status_code == 400


def test_an_unknown_created_operator_is_named(api_client):
    response = api_client.get("/v1/customers?created[after]=1")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "created[after]"


def test_a_page_costs_one_query_plus_one_for_the_cursor(api_client, customers):
    api_client.get("/v1/customers")  # warm the key's last_used_at
    with CaptureQueriesContext(connection) as queries:
        api_client.get(f"/v1/customers?limit=3&starting_after={customers[10]}")
    customer_queries = [q for q in queries.captured_queries if "payments_customer" in q["sql"]]
    assert len(customer_queries) == 2
    assert "LIMIT 4" in customer_queries[-1]["sql"]


@pytest.mark.django_db
def test_created_filters_treat_a_unix_second_as_the_whole_second(api_client, merchant):
    from datetime import UTC, datetime

    from payments.models import Customer

    at = datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)  # half way through second X
    x = int(at.timestamp())
    customer = Customer.objects.create(merchant=merchant, created_at=at)

    def ids(**params):
        query = "&".join(f"created[{op}]={value}" for op, value in params.items())
        return [c["id"] for c in api_client.get(f"/v1/customers?{query}").json()["data"]]

    assert ids(gt=x) == []
    assert ids(gte=x) == [customer.public_id]
    assert ids(lt=x) == []
    assert ids(lte=x) == [customer.public_id]
    assert ids(gt=x - 1) == [customer.public_id]
    assert ids(lt=x + 1) == [customer.public_id]
    exact = api_client.get(f"/v1/customers?created={x}").json()["data"]
    assert [c["id"] for c in exact] == [customer.public_id]
