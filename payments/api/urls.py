from django.urls import path, re_path

from core.api.views import unrecognized
from payments.api import charges, payment_intents, payment_methods, refunds
from payments.api import checkout as checkout_views
from payments.api import customers as customer_views

# /v1/... routes. One view per operation (STYLE.md); names "<entity>-<action>".
urlpatterns: list = [
    path("customers", customer_views.CustomerListCreateView.as_view(), name="customer-list"),
    path(
        "customers/<str:customer_id>",
        customer_views.CustomerDetailView.as_view(),
        name="customer-detail",
    ),
    path(
        "payment_intents",
        payment_intents.PaymentIntentListCreateView.as_view(),
        name="payment_intent-list",
    ),
    path(
        "payment_intents/<str:intent_id>",
        payment_intents.PaymentIntentDetailView.as_view(),
        name="payment_intent-detail",
    ),
    path(
        "payment_intents/<str:intent_id>/confirm",
        payment_intents.PaymentIntentConfirmView.as_view(),
        name="payment_intent-confirm",
    ),
    path(
        "payment_intents/<str:intent_id>/capture",
        payment_intents.PaymentIntentCaptureView.as_view(),
        name="payment_intent-capture",
    ),
    path(
        "payment_intents/<str:intent_id>/cancel",
        payment_intents.PaymentIntentCancelView.as_view(),
        name="payment_intent-cancel",
    ),
    path(
        "payment_methods",
        payment_methods.PaymentMethodListCreateView.as_view(),
        name="payment_method-list",
    ),
    path(
        "payment_methods/<str:pm_id>",
        payment_methods.PaymentMethodDetailView.as_view(),
        name="payment_method-detail",
    ),
    path(
        "payment_methods/<str:pm_id>/attach",
        payment_methods.PaymentMethodAttachView.as_view(),
        name="payment_method-attach",
    ),
    path(
        "payment_methods/<str:pm_id>/detach",
        payment_methods.PaymentMethodDetachView.as_view(),
        name="payment_method-detach",
    ),
    path("charges", charges.ChargeListView.as_view(), name="charge-list"),
    path("charges/<str:charge_id>", charges.ChargeDetailView.as_view(), name="charge-detail"),
    path("refunds", refunds.RefundListCreateView.as_view(), name="refund-list"),
    path("refunds/<str:refund_id>", refunds.RefundDetailView.as_view(), name="refund-detail"),
]

urlpatterns += [
    path(
        "checkout/sessions",
        checkout_views.CheckoutSessionListCreateView.as_view(),
        name="checkout_session-list",
    ),
    path(
        "checkout/sessions/<str:session_id>",
        checkout_views.CheckoutSessionDetailView.as_view(),
        name="checkout_session-detail",
    ),
    path(
        "checkout/sessions/<str:session_id>/expire",
        checkout_views.CheckoutSessionExpireView.as_view(),
        name="checkout_session-expire",
    ),
    path(
        "checkout/sessions/<str:session_id>/line_items",
        checkout_views.CheckoutSessionLineItemsView.as_view(),
        name="checkout_session-line_items",
    ),
]

# Keep this last: any other /v1 URL answers Stripe's 404 "Unrecognized request URL".
urlpatterns += [re_path(r"^.*$", unrecognized, name="unrecognized")]
