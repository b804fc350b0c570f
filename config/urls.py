from django.contrib import admin
from django.urls import include, path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularYAMLAPIView,
)

from core import views as core_views
from dashboard.access import operator_admin_login, operator_has_admin_permission

# Operators log in to the admin through allauth (allauth.account.decorators.
# secure_admin_login, with its lockout and two-factor step), and only staff with
# two-factor set up get in.
admin.site.login = operator_admin_login(admin.site.login)
admin.site.has_permission = operator_has_admin_permission

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("v1/", include("webhooks.api.urls")),
    path("v1/", include("settlement.api.urls")),
    path("v1/", include("payments.api.urls")),
    path("hooks/", include("webhooks.urls")),
    # The OpenAPI schema of /v1 and its reference page: public, outside /v1 (which the
    # Stripe SDKs treat as the API). /openapi.json answers application/json by default.
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(
            renderer_classes=[OpenApiJsonRenderer2, OpenApiJsonRenderer]
        ),
        name="openapi-json",
    ),
    path("openapi.yaml", SpectacularYAMLAPIView.as_view(), name="openapi-yaml"),
    path(
        "docs/api",
        SpectacularRedocView.as_view(
            url_name="openapi-json", template_name="docs/api_reference.html"
        ),
        name="api-docs",
    ),
    path("payments/", include("payments.urls")),
    path("checkout/", include("payments.checkout_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("sandbox/", include("sandbox.urls")),
    path("sandbox/", include("sandbox.local_urls")),  # e-wallet, bank VA and QRIS pages
    path("accounts/", include("allauth.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("admin/", admin.site.urls),
]
