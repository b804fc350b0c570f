from django.contrib import admin
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("v1/", include("payments.api.urls")),
    path("payments/", include("payments.urls")),
    path("sandbox/", include("sandbox.urls")),
    path("admin/", admin.site.urls),
]
