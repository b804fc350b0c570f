import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.urls import NoReverseMatch, reverse

from merchants.branding import MAX_ORIGINS, checkout_origin_clean, merchant_branding_update
from merchants.services import demo_merchant_ensure


def _register_shop_origins(merchant, port: str) -> None:
    """The sandbox shop embeds the demo merchant's checkout (gateway.js embedCheckout):
    register the origins it is served from (the gateway's own, on this port)."""
    base = urlsplit(settings.GATEWAY_BASE_URL)
    wanted = [
        f"{base.scheme}://{base.netloc}",
        f"http://127.0.0.1:{port}",
        f"http://localhost:{port}",
    ]
    origins = list(merchant.checkout_allowed_origins or [])
    for candidate in wanted:
        try:
            origin = checkout_origin_clean(candidate)
        except ValidationError:
            continue  # e.g. a plain-http base URL on a public host: never embeddable
        if origin not in origins and len(origins) < MAX_ORIGINS:
            origins.append(origin)
    if origins != merchant.checkout_allowed_origins:
        merchant_branding_update(merchant=merchant, checkout_allowed_origins=origins)


class Command(BaseCommand):
    help = "Create the demo merchant when missing and print its test keys and dashboard login."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--banner", action="store_true", help="print a start-up banner")
        parser.add_argument("--port", default="8000", help="port shown in the banner's URLs")

    def handle(self, *args, **options):
        demo = demo_merchant_ensure()
        _register_shop_origins(demo.merchant, options["port"])
        data = {
            "merchant_id": demo.merchant.public_id,
            "secret_key": demo.secret_key,
            "publishable_key": demo.publishable_key,
            "dashboard_email": demo.dashboard_email,
            "dashboard_password": demo.dashboard_password,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        if not options["banner"]:
            for key, value in data.items():
                self.stdout.write(f"{key}: {value}")
            return
        base = f"http://127.0.0.1:{options['port']}"
        try:
            dashboard = base + reverse("dashboard:home")
        except NoReverseMatch:
            dashboard = base + reverse("admin:index") + " (the merchant dashboard is not built yet)"
        self.stdout.write(
            f"""
  Gateway starting on {base}
  Dashboard:        {dashboard}
    login:          {demo.dashboard_email} / {demo.dashboard_password}
  Test secret key:  {demo.secret_key}
  Publishable key:  {demo.publishable_key}
  Try it:
    curl {base}/v1/payment_intents -u {demo.secret_key}: \\
      -d amount=150000 -d currency=idr -d payment_method=pm_card_visa -d confirm=true
  Health: {base}/healthz  Ready: {base}/readyz   (Ctrl-C stops web, worker and beat)
"""
        )
