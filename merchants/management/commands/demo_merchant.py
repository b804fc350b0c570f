import json

from django.core.management.base import BaseCommand
from django.urls import NoReverseMatch, reverse

from merchants.services import demo_merchant_ensure


class Command(BaseCommand):
    help = "Create the demo merchant when missing and print its test keys and dashboard login."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--banner", action="store_true", help="print a start-up banner")
        parser.add_argument("--port", default="8000", help="port shown in the banner's URLs")

    def handle(self, *args, **options):
        demo = demo_merchant_ensure()
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
