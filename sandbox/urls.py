from django.urls import include, path

from sandbox import views

app_name = "sandbox"
urlpatterns = [
    # The issuer's 3-D Secure page; its URL is the redirect_url of a requires_action answer.
    path("3ds/<str:challenge_id>", views.challenge, name="3ds-challenge"),
    path("", include("sandbox.shop_urls")),  # the demo shop (gateway.js)
]
