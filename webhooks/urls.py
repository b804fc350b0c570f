from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("<slug:connector>/", views.inbound_callback, name="inbound-callback"),
]
