"""Only the routes the sandbox tests visit, so they do not depend on the rest of the site.
The paths are the same as in config.urls."""

from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("sandbox/", include("sandbox.urls")),
]
