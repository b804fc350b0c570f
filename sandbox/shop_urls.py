from django.urls import path

from sandbox import shop_views

urlpatterns = [
    path("shop", shop_views.shop, name="shop"),
    path("shop/session", shop_views.create_session, name="shop-session"),
    path("shop/intent", shop_views.create_intent, name="shop-intent"),
]
