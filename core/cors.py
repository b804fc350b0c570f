"""CORS for /v1: merchants' pages call the API from the browser with a publishable key
(gateway.js), as they do Stripe's. Any origin may call, as on Stripe (keys, not cookies,
authenticate: no credentials are allowed, so a page gains nothing it could not do with
curl). Preflights are answered here, before authentication."""

from django.http import HttpResponse

ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, Stripe-Version, X-Request-Id"
EXPOSE_HEADERS = "Request-Id, Idempotency-Key, Idempotent-Replayed"


class CorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/v1/"):
            return self.get_response(request)
        preflight = request.method == "OPTIONS" and request.headers.get(
            "Access-Control-Request-Method"
        )
        response = HttpResponse(status=204) if preflight else self.get_response(request)
        if request.headers.get("Origin"):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            if preflight:
                response["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
                response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                response["Access-Control-Max-Age"] = "600"
        return response
