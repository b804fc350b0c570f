"""/v1/customers as a merchant's server sees it, including through the official stripe SDK."""

import pytest
import stripe
from rest_framework.test import APIClient

FORM = "application/x-www-form-urlencoded"


def create(client, body: str = "", **kwargs):
    return client.post("/v1/customers", body, content_type=FORM, **kwargs)


def test_creating_a_customer_returns_it_in_stripes_shape(api_client):
    response = create(
        api_client,
        "email=ani%40example.com&name=Ani&phone=%2B6281234&description=VIP&metadata[order]=42",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("cus_")
    assert body["object"] == "customer"
    assert body["livemode"] is False
    assert isinstance(body["created"], int)
    assert (body["email"], body["name"], body["phone"], body["description"]) == (
        "ani@example.com",
        "Ani",
        "+6281234",
        "VIP",
    )
    assert body["metadata"] == {"order": "42"}


def test_unset_fields_are_null_like_stripes(api_client):
    body = create(api_client).json()
    assert body["email"] is None and body["name"] is None and body["metadata"] == {}


def test_an_invalid_email_is_a_400_naming_email(api_client):
    response = create(api_client, "email=not-an-email")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "email"
    assert response.json()["error"]["code"] == "email_invalid"


def test_metadata_limits_are_enforced(api_client):
    too_many = "&".join(f"metadata[k{i}]=v" for i in range(51))
    assert create(api_client, too_many).status_code == 400
    long_value = create(api_client, "metadata[k]=" + "v" * 501)
    assert long_value.status_code == 400
    assert long_value.json()["error"]["param"] == "metadata[k]"
    assert create(api_client, "metadata[k]=" + "v" * 500).status_code == 200


def test_a_customer_is_retrieved_by_id(api_client):
    created = create(api_client, "name=Budi").json()
    response = api_client.get(f"/v1/customers/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_updating_merges_metadata_and_empty_values_unset(api_client):
    created = create(api_client, "name=Budi&metadata[a]=1&metadata[b]=2").json()
    response = api_client.post(
        f"/v1/customers/{created['id']}",
        "name=Budi%20S&email=&metadata[a]=&metadata[c]=3",
        content_type=FORM,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Budi S"
    assert body["email"] is None
    assert body["metadata"] == {"b": "2", "c": "3"}


def test_metadata_set_to_empty_unsets_every_key(api_client):
    created = create(api_client, "metadata[a]=1&metadata[b]=2").json()
    response = api_client.post(f"/v1/customers/{created['id']}", "metadata=", content_type=FORM)
    assert response.json()["metadata"] == {}


def test_listing_filters_by_email(api_client):
    create(api_client, "email=a%40example.com")
    wanted = create(api_client, "email=b%40example.com").json()
    response = api_client.get("/v1/customers?email=b%40example.com")
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list" and body["url"] == "/v1/customers"
    assert [c["id"] for c in body["data"]] == [wanted["id"]]


def test_deleting_answers_deleted_and_retrieve_then_shows_the_tombstone(api_client):
    created = create(api_client, "name=Gone").json()
    response = api_client.delete(f"/v1/customers/{created['id']}")
    assert response.status_code == 200
    tombstone = {"id": created["id"], "object": "customer", "deleted": True}
    assert response.json() == tombstone
    assert api_client.get(f"/v1/customers/{created['id']}").json() == tombstone
    assert api_client.get("/v1/customers").json()["data"] == []
    assert api_client.delete(f"/v1/customers/{created['id']}").status_code == 404
    update = api_client.post(f"/v1/customers/{created['id']}", "name=x", content_type=FORM)
    assert update.status_code == 404


def test_another_merchants_customer_is_missing(api_client, other_merchant, api_key_for):
    theirs = APIClient()
    theirs.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(other_merchant)}")
    their_customer = create(theirs, "name=Theirs").json()
    for response in (
        api_client.get(f"/v1/customers/{their_customer['id']}"),
        api_client.post(f"/v1/customers/{their_customer['id']}", "name=x", content_type=FORM),
        api_client.delete(f"/v1/customers/{their_customer['id']}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "id",
            "message": f"No such customer: '{their_customer['id']}'",
        }
    assert api_client.get("/v1/customers").json()["data"] == []
    assert theirs.get(f"/v1/customers/{their_customer['id']}").json()["name"] == "Theirs"


@pytest.mark.django_db(transaction=True)
def test_the_official_stripe_sdk_manages_customers(live_server, merchant, api_key_for):
    client = stripe.StripeClient(
        api_key_for(merchant),
        base_addresses={"api": live_server.url},
        max_network_retries=0,
    )
    customer = client.v1.customers.create(
        params={"email": "sdk@example.com", "name": "SDK", "metadata": {"order": "42"}}
    )
    assert customer.id.startswith("cus_") and customer.metadata["order"] == "42"
    assert client.v1.customers.retrieve(customer.id).email == "sdk@example.com"
    updated = client.v1.customers.update(
        customer.id, params={"name": "SDK 2", "metadata": {"order": "", "vip": "yes"}}
    )
    assert updated.name == "SDK 2" and updated.metadata.to_dict() == {"vip": "yes"}
    for i in range(4):
        client.v1.customers.create(params={"name": f"more {i}"})
    names = [c.name for c in client.v1.customers.list(params={"limit": 2}).auto_paging_iter()]
    assert names == ["more 3", "more 2", "more 1", "more 0", "SDK 2"]
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(customer.id, params={"name": "x"})
    assert caught.value.http_status == 404
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient(
            "sk_test_nonexistentnonexistent",
            base_addresses={"api": live_server.url},
            max_network_retries=0,
        ).v1.customers.list()
