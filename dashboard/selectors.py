"""Reads composed for dashboard pages, on top of the apps' merchant-scoped selectors."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from core.models import APIRequestLog
from merchants.models import Merchant
from payments.models import CheckoutSession, Customer, PaymentIntent
from payments.selectors.payments import payment_intent_list
from webhooks.models import Event


@dataclass(frozen=True)
class PaymentFilters:
    status: str = ""
    method: str = ""
    currency: str = ""
    created_from: dt.datetime | None = None  # inclusive
    created_to: dt.datetime | None = None  # exclusive
    amount_min: int | None = None  # minor units
    amount_max: int | None = None
    q: str = ""


def _search(q: str, *, merchant: Merchant, livemode: bool) -> Q:
    """One search box: an id, an email, the last 4 digits of a card, a client_reference_id."""
    q = q.strip()
    if q.startswith("pi_"):
        return Q(public_id=q)
    if q.startswith("ch_"):
        return Q(charges__public_id=q)
    if q.startswith("cus_"):
        return Q(customer__public_id=q)
    if q.startswith("cs_"):
        return Q(checkout_session__public_id=q)
    if q.isdigit() and len(q) == 4:
        return Q(payment_method__vault_card__last4=q)
    if "@" in q:
        # Ids from the customers and sessions with that address (each a small lookup), not
        # joins: an OR across joined tables makes PostgreSQL join every payment first.
        return (
            Q(receipt_email__iexact=q)
            | Q(
                customer_id__in=Customer.objects.filter(
                    merchant=merchant, livemode=livemode, email__iexact=q
                ).values("id")
            )
            | Q(
                pk__in=CheckoutSession.objects.filter(
                    merchant=merchant,
                    livemode=livemode,
                    customer_email__iexact=q,
                    payment_intent__isnull=False,
                ).values("payment_intent_id")
            )
        )
    return Q(checkout_session__client_reference_id=q)


def payment_search(
    *, merchant: Merchant, livemode: bool, filters: PaymentFilters
) -> QuerySet[PaymentIntent]:
    """The payments of one merchant and mode matching `filters`, newest first."""
    rows = payment_intent_list(merchant=merchant, livemode=livemode)
    f = filters
    if f.status:
        rows = rows.filter(status=f.status)
    if f.method:
        rows = rows.filter(payment_method__type=f.method)
    if f.currency:
        rows = rows.filter(currency=f.currency)
    if f.created_from:
        rows = rows.filter(created_at__gte=f.created_from)
    if f.created_to:
        rows = rows.filter(created_at__lt=f.created_to)
    if f.amount_min is not None:
        rows = rows.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        rows = rows.filter(amount__lte=f.amount_max)
    if f.q:
        rows = rows.filter(_search(f.q, merchant=merchant, livemode=livemode))
    return rows.order_by("-created_at", "-id")


@dataclass
class Page:
    rows: list = field(default_factory=list)
    next_cursor: str | None = None  # public id of the last row, when more follow
    prev_cursor: str | None = None  # public id of the first row, when this is not page 1


def keyset_page(
    rows: QuerySet,
    *,
    size: int,
    after: str = "",
    before: str = "",
    scope: QuerySet,
    key: str = "public_id",
) -> Page:
    """A page of `rows` (ordered -created_at, -id) after or before the row whose `key`
    (its public id, or "id" for rows without one) is that cursor: the cost of page 1000 is
    the cost of page 1, and two queries at most."""
    cursor = None
    wanted = after or before
    if key == "id" and not wanted.isdigit():
        wanted = ""
    if wanted:
        cursor = scope.filter(**{key: wanted}).values("created_at", "id").first()

    def cur(row) -> str:
        return str(getattr(row, key))

    if cursor is None:
        found = list(rows[: size + 1])
        return Page(
            rows=found[:size], next_cursor=cur(found[size - 1]) if len(found) > size else None
        )
    at, pk = cursor["created_at"], cursor["id"]
    if after:
        found = list(rows.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))[: size + 1])
        return Page(
            rows=found[:size],
            next_cursor=cur(found[size - 1]) if len(found) > size else None,
            prev_cursor=cur(found[0]) if found else None,
        )
    found = list(
        rows.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk)).order_by(
            "created_at", "id"
        )[: size + 1]
    )
    has_newer = len(found) > size
    found = list(reversed(found[:size]))
    return Page(
        rows=found,
        next_cursor=cur(found[-1]) if found else None,
        prev_cursor=cur(found[0]) if has_newer and found else None,
    )


@dataclass(frozen=True)
class RequestLogFilters:
    status_class: str = ""  # "2xx", "4xx", "5xx"
    method: str = ""
    path: str = ""  # contains
    idempotency_key: str = ""


STATUS_CLASSES = {"2xx": (200, 300), "3xx": (300, 400), "4xx": (400, 500), "5xx": (500, 600)}


def api_request_log_search(
    *, merchant: Merchant, livemode: bool, filters: RequestLogFilters
) -> QuerySet[APIRequestLog]:
    """The API requests of one merchant and mode matching `filters`, newest first."""
    rows = APIRequestLog.objects.filter(account=merchant.public_id, livemode=livemode)
    f = filters
    if f.status_class in STATUS_CLASSES:
        low, high = STATUS_CLASSES[f.status_class]
        rows = rows.filter(status__gte=low, status__lt=high)
    if f.method:
        rows = rows.filter(method=f.method.upper())
    if f.path:
        rows = rows.filter(path__contains=f.path)
    if f.idempotency_key:
        rows = rows.filter(idempotency_key=f.idempotency_key)
    return rows.order_by("-created_at", "-id")


def event_search(*, merchant: Merchant, livemode: bool, type: str = "") -> QuerySet[Event]:
    """The events of one merchant and mode, newest first; `type` may be "payment_intent.*"."""
    rows = Event.objects.filter(merchant=merchant, livemode=livemode)
    if type.endswith(".*"):
        rows = rows.filter(type__startswith=type[:-1])
    elif type:
        rows = rows.filter(type=type)
    return rows.only("public_id", "type", "object_id", "created_at").order_by("-created_at", "-id")
