"""Pages of the payments app that are not the JSON API (the 3-D Secure return)."""

from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path(
        "authenticate/<str:intent_id>/return",
        views.authentication_return,
        name="authentication-return",
    ),
]
