import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_limit(settings):
    if not settings.REDIS_URL:
        pytest.skip("the per-key API limit is enforced only with Redis as the cache")
    # Each test pins time.time() to a second of its own, so its counters start at zero.
    settings.GATEWAY_API_RATE_LIMIT_PER_SECOND = 3


def test_a_key_past_its_requests_per_second_gets_429_with_retry_after(
    tight_limit, api_client, merchant, api_key_for
):
    from unittest import mock

    with mock.patch("core.ratelimit.time.time", return_value=1_800_000_000.2):
        answers = [api_client.get("/v1/customers") for _ in range(5)]
        from rest_framework.test import APIClient

        other_client = APIClient()
        other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(merchant)}")
        other = other_client.get("/v1/customers")
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    error = answers[3].json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
    assert answers[3]["Retry-After"] == "1"
    assert other.status_code == 200  # counted per key
    with mock.patch("core.ratelimit.time.time", return_value=1_800_000_001.2):
        assert api_client.get("/v1/customers").status_code == 200  # the next second


def test_a_rate_limited_post_creates_nothing(tight_limit, api_client):
    from unittest import mock

    from payments.models import Customer

    with mock.patch("core.ratelimit.time.time", return_value=1_800_000_100.5):
        codes = [
            api_client.post("/v1/customers", {"email": "a@example.com"}).status_code
            for _ in range(5)
        ]
    assert codes == [200, 200, 200, 429, 429]
    assert Customer.objects.count() == 3
