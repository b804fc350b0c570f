from core import writes
from core.api.serializers import metadata_initial
from core.errors import InvalidRequestError, ResourceMissingError
from merchants.models import Merchant
from payments.cards import card_brand, validate_card
from payments.models import Customer, PaymentMethod, PaymentMethodType
from payments.test_tokens import TEST_CARD_TOKENS, TEST_PAYMENT_METHODS
from payments.vault import card_fingerprint, vault_store


def payment_method_create_card(
    *,
    merchant: Merchant,
    livemode: bool,
    number: object,
    exp_month: object,
    exp_year: object,
    cvc: object = None,
    billing_details: dict | None = None,
    metadata: dict | None = None,
    param_prefix: str = "card",
) -> tuple[PaymentMethod, str | None]:
    """Vault the card and create its PaymentMethod. Returns (payment method, cvc).

    The CVC is checked for shape and handed back to the caller, never stored: a caller that
    authorizes in this same request may use it; any other caller drops it.
    """
    digits, month, year, cvc_value = validate_card(
        number=number,
        exp_month=exp_month,
        exp_year=exp_year,
        cvc=cvc,
        param_prefix=param_prefix,
    )
    brand = card_brand(digits)
    with writes.atomic():  # joins a caller's transaction or write batch (confirm)
        vault_card = vault_store(number=digits)
        pm = PaymentMethod(
            merchant=merchant,
            livemode=livemode,
            type=PaymentMethodType.CARD,
            vault_card=vault_card,
            details={
                "brand": brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "unchecked" if cvc_value else None,
                },
                "country": None,
                "display_brand": brand,
                "exp_month": month,
                "exp_year": year,
                "fingerprint": card_fingerprint(digits)[:16],
                "funding": "unknown",
                "last4": digits[-4:],
                "networks": {"available": [brand], "preferred": None},
                "wallet": None,
            },
            billing_details=billing_details or {},
            metadata=metadata_initial(metadata),
        )
        writes.insert(pm)
    return pm, cvc_value


def _test_card_payment_method(*, merchant: Merchant, livemode: bool, number: str) -> PaymentMethod:
    from django.utils import timezone

    pm, _ = payment_method_create_card(
        merchant=merchant,
        livemode=livemode,
        number=number,
        exp_month=12,
        exp_year=timezone.now().year + 3,
    )
    return pm


def payment_method_resolve(
    *, merchant: Merchant, livemode: bool, payment_method: str, param: str = "payment_method"
) -> PaymentMethod:
    """A merchant's PaymentMethod by id, or a new one for a test token (pm_card_visa...)."""
    token = str(payment_method)
    if not livemode and (token in TEST_PAYMENT_METHODS or token in TEST_CARD_TOKENS):
        number = TEST_PAYMENT_METHODS.get(token) or TEST_CARD_TOKENS[token]
        return _test_card_payment_method(merchant=merchant, livemode=livemode, number=number)
    pm = (
        PaymentMethod.objects.select_related("customer")
        .filter(merchant=merchant, livemode=livemode, public_id=token)
        .first()
    )
    if pm is None:
        raise ResourceMissingError(f"No such PaymentMethod: '{token}'", param=param)
    return pm


def payment_method_attach(*, payment_method: PaymentMethod, customer: Customer) -> PaymentMethod:
    if payment_method.customer_id and payment_method.customer_id != customer.pk:
        raise InvalidRequestError(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
            param="customer",
        )
    PaymentMethod.objects.filter(pk=payment_method.pk).update(customer=customer)
    payment_method.customer = customer
    return payment_method


def payment_method_detach(*, payment_method: PaymentMethod) -> PaymentMethod:
    if not payment_method.customer_id:
        raise InvalidRequestError(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible.",
            code="payment_method_unexpected_state",
        )
    PaymentMethod.objects.filter(pk=payment_method.pk).update(customer=None)
    payment_method.customer = None
    return payment_method


def payment_method_record_card_facts(*, payment_method: PaymentMethod, card: dict) -> None:
    """Store what the network told us about the card (brand, funding, country)."""
    details = dict(payment_method.details)
    changed = False
    for key in ("brand", "funding", "country"):
        if card.get(key) and details.get(key) != card[key]:
            details[key] = card[key]
            changed = True
    if changed:
        payment_method.details = details
        writes.save(payment_method, update_fields=["details"])
