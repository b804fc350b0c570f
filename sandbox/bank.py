"""The sandbox bank: receives the gateway's payouts (credit transfers to merchants' bank
accounts) and answers as a real bank's API would, by our reference.

Test accounts (any bank code):
- 000123456789: the account is closed; the payout fails with account_closed.
- 000987654321: the account number does not exist; fails with invalid_account_number.
- anything else: the payout is paid at once.

The sandbox connector loads `BankClient` by dotted path (GATEWAY_SANDBOX_BANK); requests
and answers are JSON only, as if over the wire.
"""

import json
import secrets
import string

from django.db import IntegrityError, transaction

from sandbox.models import BankPayout, BankPayoutStatus

FAILING_ACCOUNTS = {
    "000123456789": ("account_closed", "The bank account has been closed."),
    "000987654321": ("invalid_account_number", "The bank account number does not exist."),
}


def _processor_reference() -> str:
    alphabet = string.ascii_letters + string.digits
    return "sbx_po_" + "".join(secrets.choice(alphabet) for _ in range(24))


def _answer(payout: BankPayout) -> dict:
    return {
        "http_status": 200,
        "object": "bank_payout",
        "reference": payout.reference,
        "processor_reference": payout.processor_reference,
        "status": payout.status,
        "amount": payout.amount,
        "currency": payout.currency,
        "code": payout.failure_code or None,
        "message": payout.failure_message or None,
        "created": int(payout.created_at.timestamp()),
    }


def create_payout(request: dict) -> dict:
    """Credit `amount` to the account. Idempotent on `reference`: a repeat answers with what
    was decided the first time."""
    reference = str(request["reference"])
    existing = BankPayout.objects.filter(reference=reference).first()
    if existing is not None:
        return _answer(existing)
    account_number = str(request["account_number"])
    failure = FAILING_ACCOUNTS.get(account_number)
    try:
        with transaction.atomic():
            payout = BankPayout.objects.create(
                reference=reference,
                processor_reference=_processor_reference(),
                bank_code=str(request.get("bank_code") or ""),
                account_number=account_number,
                account_holder_name=str(request.get("account_holder_name") or ""),
                amount=int(request["amount"]),
                currency=str(request["currency"]).lower(),
                status=BankPayoutStatus.FAILED if failure else BankPayoutStatus.PAID,
                failure_code=failure[0] if failure else "",
                failure_message=failure[1] if failure else "",
            )
    except IntegrityError:  # the same reference raced in: its answer is the answer
        payout = BankPayout.objects.get(reference=reference)
    return _answer(payout)


def inquire_payout(request: dict) -> dict:
    payout = BankPayout.objects.filter(reference=str(request["reference"])).first()
    if payout is None:
        return {
            "http_status": 404,
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No payout with reference {request['reference']}",
            },
        }
    return _answer(payout)


class BankClient:
    """An in-process client of the sandbox bank (the same contract as an HTTP client)."""

    def create_payout(self, request: dict, *, timeout: float | None = None) -> dict:
        return _wire(create_payout(_wire(request)))

    def inquire_payout(self, request: dict, *, timeout: float | None = None) -> dict:
        return _wire(inquire_payout(_wire(request)))

    def settlement_report(self, request: dict, *, timeout: float | None = None) -> dict:
        import datetime as dt

        from sandbox.reports import settlement_report_csv

        day = dt.date.fromisoformat(str(request["date"]))
        return {"http_status": 200, "csv": settlement_report_csv(day)}


def _wire(data: dict) -> dict:
    return json.loads(json.dumps(data))
