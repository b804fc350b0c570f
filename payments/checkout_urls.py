"""The hosted checkout pages, under /checkout/."""

from django.urls import path

from payments import checkout_views

app_name = "checkout"
urlpatterns = [
    path("<str:session_id>", checkout_views.page, name="page"),
    path("<str:session_id>/status", checkout_views.status, name="status"),
    path("<str:session_id>/return", checkout_views.authentication_return, name="return"),
]
