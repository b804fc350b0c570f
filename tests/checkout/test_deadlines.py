"""A local payment's deadline is shown in the merchant's time zone (WIB by default), the
way its customers read their clocks, in both languages."""

import re
from zoneinfo import ZoneInfo

import pytest

from payments.models import LocalPayment


@pytest.fixture(autouse=True)
def _in_process(in_process_callbacks):
    """Providers call back into this process; the cache starts empty."""


def _deadline(client, session, language):
    html = client.get(f"/checkout/{session.public_id}", HTTP_ACCEPT_LANGUAGE=language)
    html = html.content.decode()
    match = re.search(r'<time id="deadline" datetime="([^"]+)">([^<]+)</time>', html)
    assert match, html
    return match.groups()


@pytest.mark.parametrize(
    ("zone", "abbreviation"), [("Asia/Jakarta", "WIB"), ("Asia/Makassar", "WITA")]
)
def test_a_va_deadline_is_shown_in_the_merchants_time_zone(
    client, make_session, merchant, zone, abbreviation
):
    merchant.timezone = zone
    merchant.save(update_fields=["timezone"])
    session = make_session(payment_method_types=["bank_transfer"])
    url = f"/checkout/{session.public_id}"
    assert client.post(url, {"method": "bank_transfer", "bank": "bca"}).status_code == 303
    expires = LocalPayment.objects.get().expires_at.astimezone(ZoneInfo(zone))

    month = {"Aug": "Agu", "Oct": "Okt", "Dec": "Des", "May": "Mei"}
    for language in ("en", "id"):
        machine, shown = _deadline(client, session, language)
        name = expires.strftime("%b")
        if language == "id":
            name = month.get(name, name)
        assert shown == f"{expires.day} {name} {expires.year}, {expires:%H:%M:%S} {abbreviation}"
        assert machine == expires.replace(microsecond=0).isoformat()
        assert "UTC" not in shown
