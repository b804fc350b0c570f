from django.http import HttpRequest, HttpResponse

from dashboard.access import dashboard_view
from dashboard.views.common import render_page
from merchants.models import AuditEvent

PAGE_SIZE = 100


@dashboard_view("audit.view")
def auditevent_list(request: HttpRequest) -> HttpResponse:
    """The merchant's audit log, both modes, newest first (owners only)."""
    events = AuditEvent.objects.filter(merchant=request.dashboard.merchant).order_by(
        "-created_at", "-id"
    )
    before = request.GET.get("before", "")
    if before.isdigit():
        events = events.filter(id__lt=int(before))
    rows = list(events[: PAGE_SIZE + 1])
    context = {
        "nav": "audit",
        "events": rows[:PAGE_SIZE],
        "next_before": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
    }
    return render_page(request, "dashboard/auditevent_list.html", context)
