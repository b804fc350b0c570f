"""The hosted checkout pages, under /checkout/."""

from django.urls import path, re_path

from payments import checkout_views

app_name = "checkout"
urlpatterns = [
    re_path(r"^theme/(?P<color>[0-9a-f]{6})\.css$", checkout_views.theme, name="theme"),
    re_path(r"^logo/(?P<digest>[0-9a-f]{64})\.png$", checkout_views.logo, name="logo"),
    path("<str:session_id>", checkout_views.page, name="page"),
    path("<str:session_id>/status", checkout_views.status, name="status"),
    path("<str:session_id>/change", checkout_views.change_method, name="change-method"),
    path("<str:session_id>/return", checkout_views.authentication_return, name="return"),
]
