from django.urls import path

from webhooks.api import views

# /v1/events and /v1/webhook_endpoints; included before payments' /v1 routes (whose last
# route answers 404 for any other URL).
urlpatterns = [
    path("events", views.EventListView.as_view(), name="event-list"),
    path("events/<str:event_id>", views.EventDetailView.as_view(), name="event-detail"),
    path(
        "webhook_endpoints",
        views.WebhookEndpointListCreateView.as_view(),
        name="webhook_endpoint-list",
    ),
    path(
        "webhook_endpoints/<str:endpoint_id>",
        views.WebhookEndpointDetailView.as_view(),
        name="webhook_endpoint-detail",
    ),
    path(
        "webhook_endpoints/<str:endpoint_id>/roll_secret",
        views.WebhookEndpointRollSecretView.as_view(),
        name="webhook_endpoint-roll_secret",
    ),
    path(
        "webhook_endpoints/<str:endpoint_id>/resend",
        views.WebhookEndpointResendView.as_view(),
        name="webhook_endpoint-resend",
    ),
    path(
        "webhook_endpoints/<str:endpoint_id>/test",
        views.WebhookEndpointTestView.as_view(),
        name="webhook_endpoint-test",
    ),
    path(
        "webhook_endpoints/<str:endpoint_id>/deliveries",
        views.WebhookDeliveryListView.as_view(),
        name="webhook_endpoint-deliveries",
    ),
]
