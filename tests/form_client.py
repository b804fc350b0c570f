"""An API client that posts as the Stripe SDKs do: form-encoded, with bracket notation."""

from urllib.parse import urlencode

from rest_framework.test import APIClient


class FormClient(APIClient):
    def post(self, path, data=None, **extra):
        return self.generic(
            "POST",
            path,
            urlencode(data or {}),
            content_type="application/x-www-form-urlencoded",
            **extra,
        )


def form_client(key: str) -> FormClient:
    """A FormClient speaking with the API key `key`."""
    client = FormClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client
