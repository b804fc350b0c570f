"""API keys on /v1: Bearer and Basic, and every way a key can be refused."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import APIKey, MerchantStatus
from merchants.services import api_key_revoke, api_key_roll, hash_key


def get(path: str, authorization: str | None = None):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get(path)


def test_a_bearer_secret_key_lists_the_merchants_customers(merchant, api_key_for):
    response = get("/v1/customers", f"Bearer {api_key_for(merchant)}")
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_basic_auth_with_the_key_as_user_name_works_like_curl_u(merchant, api_key_for):
    token = base64.b64encode(f"{api_key_for(merchant)}:".encode()).decode()
    assert get("/v1/customers", f"Basic {token}").status_code == 200


@pytest.mark.django_db
def test_no_key_is_a_401_telling_how_to_send_one():
    response = get("/v1/customers")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["hello", "sk_prod_abcdefghijkl", "xk_test_abcdefghijkl"])
def test_a_malformed_key_is_a_401_invalid_api_key(key):
    response = get("/v1/customers", f"Bearer {key}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.django_db
def test_an_unknown_key_is_a_401_showing_only_its_prefix_and_last_four():
    response = get("/v1/customers", "Bearer sk_test_unknownunknownunknownabcd")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert error["message"] == "Invalid API Key provided: sk_test_****abcd"


def test_a_revoked_key_is_refused(merchant, api_key_for):
    raw = api_key_for(merchant)
    api_key_revoke(api_key=APIKey.objects.get(key_hash=hash_key(raw)))
    response = get("/v1/customers", f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_rolled_key_works_until_it_expires_then_is_refused(merchant, api_key_for):
    raw = api_key_for(merchant)
    old = APIKey.objects.get(key_hash=hash_key(raw))
    new = api_key_roll(api_key=old, expire_in=timedelta(hours=1))
    assert get("/v1/customers", f"Bearer {raw}").status_code == 200
    assert get("/v1/customers", f"Bearer {new.raw_key}").status_code == 200
    APIKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = get("/v1/customers", f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_expired"
    assert get("/v1/customers", f"Bearer {new.raw_key}").status_code == 200


def test_a_suspended_merchants_key_is_refused(merchant, api_key_for):
    raw = api_key_for(merchant)
    merchant.status = MerchantStatus.SUSPENDED
    merchant.save()
    assert get("/v1/customers", f"Bearer {raw}").status_code == 401


def test_a_publishable_key_on_a_secret_key_endpoint_is_a_403(merchant, api_key_for):
    response = get("/v1/customers", f"Bearer {api_key_for(merchant, kind='publishable')}")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["message"].startswith("This API call cannot be made with a publishable API key.")


def test_a_test_key_cannot_see_live_objects(merchant, api_key_for):
    live = APIClient()
    live.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(merchant, livemode=True)}")
    created = live.post("/v1/customers", {"name": "Live"}).json()
    assert created["livemode"] is True
    test_key = f"Bearer {api_key_for(merchant)}"
    assert get(f"/v1/customers/{created['id']}", test_key).status_code == 404
    assert get("/v1/customers", test_key).json()["data"] == []


def test_last_used_is_recorded_at_most_once_a_minute(merchant, api_key_for):
    raw = api_key_for(merchant)
    get("/v1/customers", f"Bearer {raw}")
    first = APIKey.objects.get(key_hash=hash_key(raw)).last_used_at
    assert first is not None
    get("/v1/customers", f"Bearer {raw}")
    assert APIKey.objects.get(key_hash=hash_key(raw)).last_used_at == first
