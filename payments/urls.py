"""Pages of the payments app that are not the JSON API (3-D Secure return)."""

from django.urls import path  # noqa: F401

app_name = "payments"
urlpatterns: list = []
