import datetime as dt
from decimal import Decimal

from django import forms

from core.money import currency_exponent, supported_currencies
from dashboard.selectors import PaymentFilters
from merchants.services import merchant_signup
from payments.models import PaymentIntentStatus, PaymentMethodType, RefundReason
from payments.services.local_methods import BANKS


class SignupForm(forms.Form):
    """allauth's sign-up form plus the business name (ACCOUNT_SIGNUP_FORM_CLASS)."""

    business_name = forms.CharField(max_length=200, label="Business name")

    def signup(self, request, user) -> None:
        merchant_signup(user=user, business_name=self.cleaned_data["business_name"])


def _to_minor(value: Decimal | None, currency: str) -> int | None:
    if value is None:
        return None
    return int((value * (10 ** currency_exponent(currency))).to_integral_value())


class PaymentFilterForm(forms.Form):
    """The filters and search box of the payments list (GET; every field optional)."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *PaymentIntentStatus.choices]
    )
    method = forms.ChoiceField(
        required=False, choices=[("", "Any method"), *PaymentMethodType.choices]
    )
    currency = forms.CharField(required=False, max_length=3)
    created_from = forms.DateField(required=False, label="From")
    created_to = forms.DateField(required=False, label="To")
    amount_min = forms.DecimalField(required=False, min_value=0, label="Min amount")
    amount_max = forms.DecimalField(required=False, min_value=0, label="Max amount")

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().lower()
        if value and value not in supported_currencies():
            raise forms.ValidationError("Unknown currency.")
        return value

    def filters(self, *, default_currency: str, zone) -> PaymentFilters:
        """Dates are the merchant's local days; amounts are in the currency's major unit."""
        data = self.cleaned_data if self.is_valid() else {}
        currency = data.get("currency") or default_currency

        def start_of(day):
            return dt.datetime.combine(day, dt.time.min, tzinfo=zone) if day else None

        created_to = data.get("created_to")
        return PaymentFilters(
            status=data.get("status", ""),
            method=data.get("method", ""),
            currency=data.get("currency", ""),
            created_from=start_of(data.get("created_from")),
            created_to=start_of(created_to + dt.timedelta(days=1)) if created_to else None,
            amount_min=_to_minor(data.get("amount_min"), currency),
            amount_max=_to_minor(data.get("amount_max"), currency),
            q=data.get("q", "").strip(),
        )


class RefundForm(forms.Form):
    """A refund of a payment. Virtual account and QRIS payments have no way back to where
    they came from: with `by_payout` the form also asks for the customer's bank account,
    which the refund pays by a bank transfer (payments.services.local_refunds)."""

    amount = forms.DecimalField(
        required=False, min_value=Decimal("0.01"), label="Amount (empty: all that is left)"
    )
    reason = forms.ChoiceField(choices=[("", "No reason"), *RefundReason.choices], required=False)
    bank = forms.ChoiceField(
        required=False, choices=[("", "Choose the bank"), *BANKS.items()], label="Customer's bank"
    )
    account_number = forms.RegexField(
        required=False,
        regex=r"^[0-9]{6,20}$",
        max_length=20,
        label="Account number",
        error_messages={"invalid": "Digits only, 6 to 20 of them."},
    )
    account_holder_name = forms.CharField(
        required=False, max_length=200, label="Account holder name"
    )

    DESTINATION_FIELDS = ("bank", "account_number", "account_holder_name")

    def __init__(self, *args, by_payout: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.by_payout = by_payout
        for name in self.DESTINATION_FIELDS:
            self.fields[name].required = by_payout

    @property
    def destination(self) -> dict | None:
        """The customer's bank account for a refund by bank transfer, else None."""
        if not self.by_payout:
            return None
        return {name: self.cleaned_data[name].strip() for name in self.DESTINATION_FIELDS}


class CaptureForm(forms.Form):
    amount = forms.DecimalField(
        required=False, min_value=Decimal("0.01"), label="Amount (empty: all)"
    )


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        required=False,
        widget=forms.Select(attrs={"id": "cancel-reason"}),
        choices=[
            ("", "No reason"),
            ("requested_by_customer", "Requested by customer"),
            ("duplicate", "Duplicate"),
            ("fraudulent", "Fraudulent"),
            ("abandoned", "Abandoned"),
        ],
    )


def amount_in_minor(value: Decimal | None, currency: str) -> int | None:
    return _to_minor(value, currency)
