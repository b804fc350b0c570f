import pytest
import requests
import stripe

from tests.webhooks.conftest import Receiver

EVENTS = [
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refunded",
]


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(script=(), dedupe=False) -> Receiver:
        made.append(Receiver(script, dedupe))
        return made[-1]

    yield make
    for r in made:
        r.close()


class Gateway:
    """The gateway on a live server: the merchant's stripe client, its webhook receiver,
    and a customer's browser for the sandbox pages."""

    def __init__(self, url: str, client: stripe.StripeClient, hook: Receiver):
        self.url = url
        self.client = client
        self.hook = hook
        self.browser = requests.Session()

    def create(self, method: str, amount: int, **data) -> stripe.PaymentIntent:
        pm_data = {"type": method, **data}
        return self.client.v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": "idr",
                "payment_method_types": [method],
                "payment_method_data": pm_data,
                "confirm": True,
            }
        )

    def customer_post(self, path: str, data: dict) -> requests.Response:
        """What a customer's browser does: open the page, submit its form (with CSRF)."""
        url = path if path.startswith("http") else self.url + path
        page = self.browser.get(url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        token = self.browser.cookies.get("csrftoken")
        return self.browser.post(url, data={**data, "csrfmiddlewaretoken": token}, timeout=20)

    def events(self, type_: str | None = None, object_id: str | None = None) -> list[dict]:
        return [
            e
            for e in self.hook.events()
            if (type_ is None or e["type"] == type_)
            and (object_id is None or e["data"]["object"]["id"] == object_id)
        ]


@pytest.fixture
def gateway(live_server, settings, api_key_for, merchant, receiver):
    # Links the gateway and the sandbox hand out, and the providers' callbacks, go here.
    settings.GATEWAY_BASE_URL = live_server.url
    settings.GATEWAY_SANDBOX_CALLBACK_TRANSPORT = "http"
    key = api_key_for(merchant)
    hook = receiver()
    client = stripe.StripeClient(
        key, base_addresses={"api": live_server.url}, max_network_retries=0
    )
    client.v1.webhook_endpoints.create(params={"url": hook.url, "enabled_events": EVENTS})
    return Gateway(live_server.url, client, hook)
