"""Home: balances, charts, recent payments, alerts; a fixed number of queries."""

from django.conf import settings
from django.urls import reverse

from tests.dashboard.conftest import pay


def test_home_shows_balances_charts_and_recent_payments(dashboard_client, merchant):
    paid = pay(merchant, 150_000)
    pay(merchant, 20_000, manual=True)
    response = dashboard_client.get(reverse("dashboard:home"), {"range": "7d"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-balance="pending"' in body and "IDR" in body
    assert paid.public_id in body
    assert body.count('<svg class="chart"') == 2
    assert body.count('<rect class="bar"') == 7
    assert 'id="success-rate">100.0%' in body
    assert 'id="volume-total">IDR\xa01,500.00' in body


def test_home_range_tabs_answer_the_charts_fragment(dashboard_client, merchant):
    response = dashboard_client.get(
        reverse("dashboard:home"), {"range": "90d"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="charts">')
    assert body.count('<rect class="bar"') == 90


def test_home_makes_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    url = reverse("dashboard:home")
    pay(merchant, 1_000)
    dashboard_client.get(url)
    # Earlier days come from the cache: one more query when the cache is a database table.
    with django_assert_num_queries(12 if settings.REDIS_URL else 13) as first:
        dashboard_client.get(url)
    for _ in range(3):
        pay(merchant, 5_000)
        pay(merchant, 5_000, manual=True)
    with django_assert_num_queries(len(first.captured_queries)):
        dashboard_client.get(url, {"range": "90d"})


def test_earlier_days_come_from_a_short_cache_and_today_is_always_live(dashboard_client, merchant):
    import datetime as dt

    from django.core.cache import cache
    from django.utils import timezone

    from payments.models import PaymentIntent

    url = reverse("dashboard:home")
    old = pay(merchant, 150_000)
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    PaymentIntent.objects.filter(pk=old.pk).update(created_at=two_days_ago)
    body = dashboard_client.get(url, {"range": "7d"}).content.decode()
    assert 'id="volume-total">IDR\xa01,500.00' in body
    pay(merchant, 20_000)  # today: shown at once, whatever is cached
    body = dashboard_client.get(url, {"range": "7d"}).content.decode()
    assert 'id="volume-total">IDR\xa01,700.00' in body
    # A change to an earlier day shows once its cached days expire (PAST_DAYS_TTL).
    PaymentIntent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=10)
    )
    assert "IDR\xa01,700.00" in dashboard_client.get(url, {"range": "7d"}).content.decode()
    cache.clear()
    body = dashboard_client.get(url, {"range": "7d"}).content.decode()
    assert 'id="volume-total">IDR\xa0200.00' in body
    body = dashboard_client.get(url, {"range": "30d"}).content.decode()
    assert 'id="volume-total">IDR\xa01,700.00' in body


def test_an_odd_currency_parameter_falls_back_to_the_default_currency(dashboard_client):
    response = dashboard_client.get(reverse("dashboard:home"), {"currency": "x" * 500})
    assert response.status_code == 200
    assert "Activity in IDR" in response.content.decode()
