"""The processor interface (DESIGN.md §7).

A connector speaks to one processor. Every call carries our unique reference (the public
id of the Transaction row recorded before the call), so a retried call can never charge
twice: the processor answers a repeated reference with the result it already gave.

Outcomes are values, not exceptions:
- succeeded / declined (final) / requires_action (customer must act, e.g. 3-D Secure)
- transient: the processor refused to process now (5xx, overloaded); nothing happened, a
  retry with the same reference is safe
- unknown: we cannot tell whether it happened (timeout after sending); resolve with
  `inquire(reference)`, never with a new authorization
"""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"
    TRANSIENT = "transient"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CardAuthorization:
    """What an authorize call needs. The PAN is not here: the connector reads it from the
    vault by `vault_card_id` at the moment it sends the request. The CVC lives only in this
    object, in the memory of the confirming request."""

    reference: str
    amount: int
    currency: str
    capture: bool  # True: authorize and capture at once (automatic capture)
    vault_card_id: int
    exp_month: int
    exp_year: int
    cvc: str | None
    merchant_id: str
    merchant_name: str
    merchant_country: str
    customer_ip: str | None = None
    customer_email: str | None = None
    # Where the 3-D Secure page sends the customer back to (the gateway, not the merchant).
    authentication_return_url: str | None = None


@dataclass(frozen=True)
class ConnectorResult:
    outcome: Outcome
    processor_reference: str | None = None
    # Declines: Stripe's codes (card_declined + decline_code, or expired_card, incorrect_cvc, ...)
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    network_status: str | None = (
        None  # approved_by_network, declined_by_network, not_sent_to_network
    )
    authorization_code: str | None = None
    risk_score: int | None = None
    risk_level: str | None = None  # normal, elevated, highest
    redirect_url: str | None = None  # requires_action: the 3-D Secure challenge
    # Card facts the network knows: brand, funding (credit/debit/prepaid), country.
    card: dict = field(default_factory=dict)
    amount: int | None = None  # amount the operation applied to, where relevant
    latency_ms: int = 0
    raw: dict = field(default_factory=dict)
    # requires_action of a local method: what the customer is shown (QR, VA, push), built
    # by payments.services.local_methods from the provider's answer.
    next_action: dict | None = None


@dataclass(frozen=True)
class LocalPaymentRequest:
    """A payment by e-wallet, virtual account or QRIS: the provider answers requires_action
    (the customer acts in the app or the bank) and tells the outcome by callback or inquiry.
    The OVO phone number lives only in this object."""

    reference: str
    method: str  # gopay, ovo, dana, shopeepay, qris, bank_transfer
    amount: int
    currency: str
    expires_at: int  # unix seconds: the provider refuses to be paid after it
    merchant_id: str
    merchant_name: str
    bank: str | None = None  # bank_transfer: bca, bni, bri, mandiri, permata
    phone: str | None = None  # ovo


class Connector(Protocol):
    name: str

    def authorize(self, request: CardAuthorization) -> ConnectorResult: ...

    def capture(
        self, *, reference: str, authorization_reference: str, amount: int, currency: str
    ) -> ConnectorResult: ...

    def void(self, *, reference: str, authorization_reference: str) -> ConnectorResult: ...

    def refund(
        self, *, reference: str, capture_reference: str, amount: int, currency: str
    ) -> ConnectorResult: ...

    def inquire(self, *, reference: str) -> ConnectorResult:
        """The processor's truth about the operation we sent under `reference`."""
        ...

    def create_payout(
        self,
        *,
        reference: str,
        amount: int,
        currency: str,
        bank_code: str,
        account_number: str,
        account_holder_name: str,
    ) -> ConnectorResult:
        """Credit a merchant's bank account. SUCCEEDED: paid; DECLINED: the bank refused
        (code account_closed, invalid_account_number...); PENDING: accepted, not yet
        credited; UNKNOWN: ask with inquire_payout under the same reference."""
        ...

    def inquire_payout(self, *, reference: str) -> ConnectorResult:
        """The bank's truth about the payout sent under `reference` (TRANSIENT with code
        resource_missing when it never arrived: resending the same reference is safe)."""
        ...

    def settlement_report(self, *, date: date) -> str:
        """The processor's settlement report of a day (UTC) as CSV: reference,
        processor_reference, type (capture|refund), amount, currency, date."""
        ...
