"""The checkout page through Django's test client (no JavaScript): the form posts,
redirects and answers that a browser without JavaScript gets."""

import pytest

from payments.models import CheckoutSession

CARD = {"number": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123", "name": "Budi"}


@pytest.fixture(autouse=True)
def _fresh_counters(fresh_cache):
    """The cache (counters, rate limits) starts and ends empty: fresh_cache."""


def test_the_page_shows_the_merchant_items_and_rupiah_total(client, make_session):
    session = make_session()
    response = client.get(f"/checkout/{session.public_id}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Toko Kopi" in html
    assert "Kopi Toraja 250 g" in html
    assert "Rp65.000" in html
    assert "Rp25.000" in html
    assert 'name="number"' in html
    assert response.headers["Vary"].count("HX-Request") == 1


def test_paying_without_javascript_redirects_to_the_success_page(client, make_session):
    session = make_session()
    response = client.post(f"/checkout/{session.public_id}", CARD)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/checkout/{session.public_id}"
    page = client.get(response.headers["Location"]).content.decode()
    assert "Payment successful" in page
    expected = f"https://shop.example/thanks?session_id={session.public_id}"
    assert f'href="{expected}"' in page
    assert f'content="5;url={expected}"' in page
    session.refresh_from_db()
    assert session.status == "complete"


def test_a_complete_session_refuses_another_payment(client, make_session):
    session = make_session()
    client.post(f"/checkout/{session.public_id}", CARD)
    again = client.post(f"/checkout/{session.public_id}", CARD)
    assert again.status_code == 409
    assert "already been paid" in again.content.decode()
    session.refresh_from_db()
    assert session.payment_intent.charges.count() == 1


def test_htmx_gets_the_form_partial_with_the_decline_reason(client, make_session):
    session = make_session()
    response = client.post(
        f"/checkout/{session.public_id}",
        {**CARD, "number": "4000 0000 0000 0002"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 402
    html = response.content.decode()
    assert html.lstrip().startswith("<form")
    assert "Your card was declined" in html
    assert "<html" not in html
    assert "4000" not in html.replace("4000 0000", "")  # the card number is never echoed


def test_invalid_fields_are_marked_for_screen_readers(client, make_session):
    session = make_session()
    response = client.post(
        f"/checkout/{session.public_id}", {**CARD, "number": "4242 4242 4242 4241"}
    )
    assert response.status_code == 402
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "Your card number is not valid" in html


def test_the_amount_cannot_come_from_the_browser(client, make_session):
    session = make_session()
    client.post(f"/checkout/{session.public_id}", {**CARD, "amount": "1", "currency": "usd"})
    session.refresh_from_db()
    assert (session.payment_intent.amount, session.payment_intent.currency) == (6500000, "idr")


def test_an_unknown_session_is_404(client, db):
    assert client.get("/checkout/cs_nope").status_code == 404


def test_card_attempts_per_session_are_limited(client, make_session, settings):
    settings.GATEWAY_CARD_ATTEMPTS_PER_SESSION = 3
    session = make_session()
    for _ in range(3):
        response = client.post(
            f"/checkout/{session.public_id}", {**CARD, "number": "4000 0000 0000 0002"}
        )
        assert response.status_code == 402
    response = client.post(f"/checkout/{session.public_id}", CARD)
    assert response.status_code == 429
    assert "Too many payment attempts" in response.content.decode()
    assert CheckoutSession.objects.get(pk=session.pk).status == "open"
