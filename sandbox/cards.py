"""What the sandbox card network knows about a card number: brand, funding, country, the
issuer's behaviour for Stripe's test cards, and the credit limit of its simulated account.

Test cards are Stripe's (https://docs.stripe.com/testing). Two Indonesian cards are ours:
4617000000000007 (visa credit, ID) and 5243250000000007 (mastercard debit, ID); they
approve, but score higher for fraud on a merchant outside Indonesia (country mismatch).
Any other Luhn-valid number belongs to a generic US issuer that approves within its limit.
"""

from dataclasses import dataclass

# Minor units, whatever the currency: Rp10,000,000,000 or USD 10,000,000,000. Generous, so
# that a demo or a benchmark on one test card never runs out in idr, where a payment is
# millions of minor units; a test reaches the limit by asking account_state for it.
DEFAULT_CREDIT_LIMIT = 1_000_000_000_000


@dataclass(frozen=True)
class CardProfile:
    brand: str
    funding: str = "credit"
    country: str = "US"
    # A fixed issuer answer: (code, decline_code) or None to approve.
    decline: tuple[str, str] | None = None
    requires_3ds: bool = False
    credit_limit: int = DEFAULT_CREDIT_LIMIT
    # A fixed fraud score (the network's risk model on this card), else computed.
    risk_score: int | None = None


TEST_CARDS: dict[str, CardProfile] = {
    # Successful payments, one or more per brand.
    "4242424242424242": CardProfile("visa"),
    "4000056655665556": CardProfile("visa", funding="debit"),
    "5555555555554444": CardProfile("mastercard"),
    "2223003122003222": CardProfile("mastercard"),
    "5200828282828210": CardProfile("mastercard", funding="debit"),
    "378282246310005": CardProfile("amex"),
    "6011111111111117": CardProfile("discover"),
    "3056930009020004": CardProfile("diners"),
    "3566002020360505": CardProfile("jcb"),
    "6200000000000005": CardProfile("unionpay"),
    # Declines.
    "4000000000000002": CardProfile("visa", decline=("card_declined", "generic_decline")),
    "4000000000009995": CardProfile(
        "visa", decline=("card_declined", "insufficient_funds"), credit_limit=0
    ),
    "4000000000009987": CardProfile("visa", decline=("card_declined", "lost_card")),
    "4000000000009979": CardProfile("visa", decline=("card_declined", "stolen_card")),
    "4000000000000069": CardProfile("visa", decline=("expired_card", "expired_card")),
    "4000000000000127": CardProfile("visa", decline=("incorrect_cvc", "incorrect_cvc")),
    "4000000000000119": CardProfile("visa", decline=("processing_error", "processing_error")),
    # Fraud: the network's risk model blocks it (highest risk), elevated risk but approved.
    "4100000000000019": CardProfile("visa", risk_score=85),
    "4000000000009235": CardProfile("visa", risk_score=70),
    # 3-D Secure: authentication required before the issuer decides.
    "4000002760003184": CardProfile("visa", requires_3ds=True),
    "4000002500003155": CardProfile("visa", requires_3ds=True),
    "4000000000003220": CardProfile("visa", requires_3ds=True),
    # Indonesian issuers (ours, not Stripe's).
    "4617000000000007": CardProfile("visa", country="ID"),
    "5243250000000007": CardProfile("mastercard", funding="debit", country="ID"),
}

# (brand, ranges of the leading digits)
_BRAND_RANGES = [
    ("amex", [(34, 34), (37, 37)]),
    ("diners", [(300, 305), (36, 36), (38, 39)]),
    ("discover", [(6011, 6011), (644, 649), (65, 65)]),
    ("jcb", [(3528, 3589)]),
    ("unionpay", [(62, 62)]),
    ("mastercard", [(51, 55), (2221, 2720)]),
    ("visa", [(4, 4)]),
]


def brand_of(number: str) -> str:
    for brand, ranges in _BRAND_RANGES:
        for low, high in ranges:
            head = number[: len(str(low))]
            if head.isdigit() and low <= int(head) <= high:
                return brand
    return "unknown"


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def profile_of(number: str) -> CardProfile:
    return TEST_CARDS.get(number) or CardProfile(brand_of(number))
