"""Home: balances, charts, recent payments, alerts; a fixed number of queries."""

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
    with django_assert_num_queries(12) as first:
        dashboard_client.get(url)
    for _ in range(3):
        pay(merchant, 5_000)
        pay(merchant, 5_000, manual=True)
    with django_assert_num_queries(len(first.captured_queries)):
        dashboard_client.get(url, {"range": "90d"})
