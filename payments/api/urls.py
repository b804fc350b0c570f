from django.urls import path, re_path

from core.api.views import unrecognized
from payments.api import customers as customer_views

# /v1/... routes. One view per operation (STYLE.md); names "<entity>-<action>".
urlpatterns: list = [
    path("customers", customer_views.CustomerListCreateView.as_view(), name="customer-list"),
    path("customers/<str:customer_id>", customer_views.CustomerDetailView.as_view(),
         name="customer-detail"),
]

# Keep this last: any other /v1 URL answers Stripe's 404 "Unrecognized request URL".
urlpatterns += [re_path(r"^.*$", unrecognized, name="unrecognized")]
