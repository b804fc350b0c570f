import pytest


@pytest.fixture
def make_session(merchant):
    """make_session(**overrides) -> an open CheckoutSession of `merchant` (test mode)."""
    from payments.services.checkout import checkout_session_create

    def make(**overrides):
        params = {
            "merchant": merchant,
            "livemode": False,
            "success_url": "https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/cart",
            "line_items": [
                {
                    "price_data": {
                        "currency": "idr",
                        "unit_amount": 2500000,
                        "product_data": {"name": "Kopi Toraja 250 g"},
                    },
                    "quantity": 2,
                },
                {
                    "price_data": {
                        "currency": "idr",
                        "unit_amount": 1500000,
                        "product_data": {"name": "Gula aren"},
                    },
                    "quantity": 1,
                },
            ],
        }
        params.update(overrides)
        if "amount" in overrides:
            params.pop("line_items")
        return checkout_session_create(**params)

    return make


@pytest.fixture
def in_process_callbacks(settings, fresh_cache):
    """The sandbox's providers call back into this process (no live server), as their
    tasks would, with the counters in an empty cache."""
    settings.GATEWAY_SANDBOX_CALLBACK_TRANSPORT = "inprocess"
