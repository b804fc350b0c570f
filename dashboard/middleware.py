from django.conf import settings

# Pages of the merchant dashboard and its account pages (allauth).
_PREFIXES = ("/dashboard/", "/accounts/")


class DashboardCSPMiddleware:
    """Give dashboard and account pages their strict Content-Security-Policy (first-party
    scripts with a nonce, no inline script or style), leaving other pages as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(_PREFIXES) and getattr(response, "_csp_config", None) is None:
            response._csp_config = {
                key: list(value) for key, value in settings.GATEWAY_DASHBOARD_CSP.items()
            }
        return response
