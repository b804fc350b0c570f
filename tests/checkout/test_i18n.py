"""The checkout page in Indonesian and English (Django i18n, locale/id)."""

import pytest
from playwright.sync_api import expect

CARD = {"number": "4000 0000 0000 0002", "exp": "12 / 34", "cvc": "123"}


@pytest.fixture(autouse=True)
def _fresh_counters(fresh_cache):
    """The cache (counters, rate limits) starts and ends empty: fresh_cache."""


def test_the_page_follows_the_browsers_language(client, make_session):
    session = make_session()
    html = client.get(
        f"/checkout/{session.public_id}", headers={"Accept-Language": "id-ID,id;q=0.9"}
    ).content.decode()
    assert '<html lang="id">' in html
    assert "Bayar dengan kartu" in html
    assert "Nomor kartu" in html
    assert "Rp65.000" in html
    english = client.get(f"/checkout/{session.public_id}").content.decode()
    assert '<html lang="en">' in english
    assert "Pay by card" in english


def test_the_language_switch_keeps_the_customer_on_the_page(client, make_session):
    session = make_session()
    page = f"/checkout/{session.public_id}"
    response = client.post("/i18n/setlang/", {"language": "id", "next": page})
    assert response.status_code == 302
    assert response.headers["Location"] == page
    html = client.get(page).content.decode()
    assert "Bayar dengan kartu" in html
    declined = client.post(page, CARD).content.decode()
    assert "Kartu Anda ditolak. Gunakan kartu lain atau hubungi bank Anda." in declined


def test_usd_amounts_keep_their_cents(client, make_session):
    session = make_session(amount=1250, currency="usd")
    assert "$12.50" in client.get(f"/checkout/{session.public_id}").content.decode()
    indonesian = client.get(
        f"/checkout/{session.public_id}", headers={"Accept-Language": "id"}
    ).content.decode()
    assert "US$12,50" in indonesian


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_customer_switches_to_indonesian_and_reads_errors_in_it(
    page, live_server, make_session, settings
):
    settings.GATEWAY_BASE_URL = live_server.url
    session = make_session(success_url=live_server.url + "/healthz")
    page.goto(f"{live_server.url}/checkout/{session.public_id}")
    page.select_option("#language", "id")
    page.click("text=Change")
    expect(page.locator("#pay-title")).to_have_text("Bayar dengan kartu")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    page.fill("#number", "4242 4242 4242 4241")
    page.fill("#exp", "12 / 34")
    page.fill("#cvc", "123")
    page.click("#pay-button")
    expect(page.locator("#number-error")).to_have_text("Masukkan nomor kartu yang valid.")
    page.fill("#number", "4000 0000 0000 0002")
    page.click("#pay-button")
    expect(page.locator("#form-error")).to_have_text(
        "Kartu Anda ditolak. Gunakan kartu lain atau hubungi bank Anda."
    )
