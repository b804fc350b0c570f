from django.urls import path  # noqa: F401

# /v1/... routes. One view per operation (STYLE.md); names "<entity>-<action>".
urlpatterns: list = []
