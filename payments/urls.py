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
    # QR codes of local-method payments (next_action.display_qr_code.image_url_svg).
    path("qr/<str:token>.svg", views.qr_code_svg, name="qr-code-svg"),
]
