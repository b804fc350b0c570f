"""Home: balances, volume and success rate over 7/30/90 days, recent payments, alerts."""

import datetime as dt
import re

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.access import dashboard_view, merchant_zone
from dashboard.charts import daily_chart
from dashboard.templatetags.dashboard import money
from dashboard.views.common import render_page
from payments.models import PaymentIntentStatus
from payments.selectors.payments import payment_intent_list
from settlement.models import Payout
from settlement.services.ledger import merchant_balances
from webhooks.models import WebhookEndpointStatus
from webhooks.selectors import webhook_endpoint_list

RANGES = {"7d": 7, "30d": 30, "90d": 90}
_PAID = [PaymentIntentStatus.SUCCEEDED, PaymentIntentStatus.REQUIRES_CAPTURE]


# Earlier days of the charts are kept this long in the cache: on a busy account they are
# the expensive part (one aggregate over up to 90 days of payments), and they rarely move
# (a late capture, a wallet paid after midnight). Today's numbers are always read live.
PAST_DAYS_TTL = 300
_MAX_DAYS = max(RANGES.values())


def _daily(request: HttpRequest, *, currency: str, since: dt.datetime, until=None) -> dict:
    """{day: (volume, attempts, paid)} of the merchant's payments in `currency` created in
    [since, until), by the merchant's local day."""
    d = request.dashboard
    zone = merchant_zone(d.merchant)
    rows = payment_intent_list(merchant=d.merchant, livemode=d.livemode).filter(
        created_at__gte=since, currency=currency
    )
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    rows = (
        rows.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(
            volume=Sum("amount_received", filter=Q(status=PaymentIntentStatus.SUCCEEDED)),
            attempts=Count("id", filter=Q(latest_charge__isnull=False)),
            paid=Count("id", filter=Q(status__in=_PAID)),
        )
    )
    return {row["day"]: (int(row["volume"] or 0), row["attempts"], row["paid"]) for row in rows}


def _series(request: HttpRequest, *, days: int, currency: str):
    d = request.dashboard
    zone = merchant_zone(d.merchant)
    today = timezone.localdate(timezone=zone)
    first = today - dt.timedelta(days=days - 1)
    midnight = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
    # The 90 days before today serve every range (7 and 30 days are their tail).
    key = (
        f"dashboard:days:{d.merchant.pk}:{int(d.livemode)}:{currency}:{zone.key}:"
        f"{today.isoformat()}"
    )
    past = cache.get(key)
    if past is None:
        since = dt.datetime.combine(today - dt.timedelta(days=_MAX_DAYS - 1), dt.time.min, zone)
        past = _daily(request, currency=currency, since=since, until=midnight)
        cache.set(key, past, PAST_DAYS_TTL)
    by_day = {**past, **_daily(request, currency=currency, since=midnight)}
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    empty = (0, 0, 0)
    volume = [by_day.get(day, empty)[0] for day in dates]
    rate = []
    for day in dates:
        _, attempts, paid = by_day.get(day, empty)
        rate.append(100 * paid / attempts if attempts else 0)
    total_attempts = sum(by_day.get(day, empty)[1] for day in dates)
    total_paid = sum(by_day.get(day, empty)[2] for day in dates)
    return {
        "volume_chart": daily_chart(dates, volume, fmt=lambda v: money(int(v), currency)),
        "rate_chart": daily_chart(dates, rate, fmt=lambda v: f"{v:.0f}%", max_value=100),
        "volume_total": sum(volume),
        "success_rate": (100 * total_paid / total_attempts) if total_attempts else None,
        "attempts": total_attempts,
    }


def _alerts(request: HttpRequest) -> list[str]:
    d = request.dashboard
    alerts = []
    disabled = (
        webhook_endpoint_list(merchant=d.merchant, livemode=d.livemode)
        .filter(status=WebhookEndpointStatus.DISABLED)
        .count()
    )
    if disabled:
        alerts.append(f"{disabled} webhook endpoint(s) are disabled and receive no events.")
    week_ago = timezone.now() - dt.timedelta(days=7)
    failed = Payout.objects.filter(
        merchant=d.merchant, livemode=d.livemode, status="failed", created_at__gte=week_ago
    ).count()
    if failed:
        alerts.append(f"{failed} payout(s) failed in the last 7 days.")
    expiring = (
        payment_intent_list(merchant=d.merchant, livemode=d.livemode)
        .filter(
            status=PaymentIntentStatus.REQUIRES_CAPTURE,
            created_at__lte=timezone.now() - dt.timedelta(days=6),
        )
        .count()
    )
    if expiring:
        alerts.append(
            f"{expiring} uncaptured payment(s) will be canceled within a day unless captured."
        )
    return alerts


@dashboard_view("payments.view")
def home(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    span = request.GET.get("range", "30d")
    if span not in RANGES:
        span = "30d"
    balances = merchant_balances(merchant=d.merchant, livemode=d.livemode)
    currencies = sorted(balances) or [d.merchant.default_currency]
    currency = request.GET.get("currency", "").lower()
    if not re.fullmatch(r"[a-z]{3}", currency):
        currency = d.merchant.default_currency
    context = {
        "nav": "home",
        "balances": [
            {
                "currency": c,
                "available": balances.get(c, {}).get("available", 0),
                "pending": balances.get(c, {}).get("pending", 0),
                "in_transit": balances.get(c, {}).get("in_transit", 0),
            }
            for c in currencies
        ],
        "range": span,
        "ranges": list(RANGES),
        "currency": currency,
        "recent": list(
            payment_intent_list(merchant=d.merchant, livemode=d.livemode).order_by(
                "-created_at", "-id"
            )[:8]
        ),
        "alerts": _alerts(request),
        **_series(request, days=RANGES[span], currency=currency),
    }
    return render_page(request, "dashboard/home.html", context, partial="charts")
