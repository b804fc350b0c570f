"""The base of every /v1 view: authentication, parameters, idempotency and Stripe errors.

A view subclasses StripeAPIView, reads `request.params` (the parsed body or query string,
nested from bracket notation), validates it with a StripeSerializer (core.api.serializers
.validate), calls a service or selector with `request.merchant` and `request.livemode`, and
returns `Response(rendered_dict)`. Errors are raised (core.errors.APIError subclasses, DRF
exceptions) and rendered here; POSTs with `Idempotency-Key` are replayed here.
"""

import time

from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.authentication import NO_KEY_MESSAGE, APIKeyAuthentication
from core.api.exceptions import ParameterError, exception_handler, unrecognized_url
from core.api.idempotency import (
    idempotency_begin,
    idempotency_complete,
    idempotency_release,
    validate_key,
)
from core.api.params import parse_query
from core.api.parsers import FormParser, JSONParser
from core.api.rate import ApiRateLimitError, check_api_rate
from core.api.requestlog import record_on_close
from core.api.schema import APIKeyAuthenticationScheme  # noqa: F401  (registers it)
from core.errors import AuthenticationError, PermissionDeniedError
from core.logging import idempotency_key_var


class StripeAPIView(APIView):
    authentication_classes = [APIKeyAuthentication]
    permission_classes: list = []
    parser_classes = [FormParser, JSONParser]
    # Publishable keys (pk_...) are for the browser: only views that say so accept them.
    publishable_key_allowed = False

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        api_key = request.auth
        if api_key is None:
            raise AuthenticationError(NO_KEY_MESSAGE)
        if api_key.kind == "publishable" and not self.publishable_key_allowed:
            raise PermissionDeniedError(
                "This API call cannot be made with a publishable API key. "
                "Please use a secret API key."
            )
        check_api_rate(api_key)
        # On the Django request too, so middleware and logging see them.
        for target in (request, request._request):
            target.merchant = api_key.merchant
            target.livemode = api_key.livemode
            target.api_key = api_key
        request.params = self.parse_params(request)

    def parse_params(self, request) -> dict:
        """Query string parameters, overlaid with the body's (both in bracket notation)."""
        params = parse_query(request.META.get("QUERY_STRING", ""))
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            params.update(request.data)
        return params

    def dispatch(self, request, *args, **kwargs):
        # The API speaks English whatever Accept-Language says (as Stripe's does): error
        # messages are part of the contract that integrations match on and log.
        with translation.override("en"):
            return self._dispatch(request, *args, **kwargs)

    def _dispatch(self, request, *args, **kwargs):
        # DRF's dispatch, with the handler wrapped by idempotency for POSTs.
        started = time.monotonic()
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        try:
            self.initial(request, *args, **kwargs)
            if request.method.lower() in self.http_method_names:
                handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            if key is None:
                response = handler(request, *args, **kwargs)
            else:
                response = self._idempotent(validate_key(key), handler, request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        if key is not None:
            self.response["Idempotency-Key"] = key
        # The request log (Developers → Logs): written after the response was sent.
        record_on_close(request, self.response, started=started, idempotency_key=key or "")
        return self.response

    def _idempotent(self, key, handler, request, *args, **kwargs):
        claim = idempotency_begin(
            account=request.merchant.public_id,
            livemode=request.livemode,
            key=key,
            method=request.method,
            path=request.path,
            params=request.params,
            request_id=getattr(request._request, "request_id", ""),
        )
        if not claim.held:
            replay = Response(claim.row.response_body, status=claim.row.response_status)
            replay["Idempotent-Replayed"] = "true"
            if claim.row.request_id:
                replay["Original-Request"] = claim.row.request_id
            return replay
        store = True
        token = idempotency_key_var.set(key)  # events caused by this request carry the key
        try:
            response = handler(request, *args, **kwargs)
        except Exception as exc:
            # Parameters that failed validation: the endpoint never ran, nothing is saved
            # (Stripe does the same), so the client may fix and retry with the same key.
            store = not isinstance(exc, ParameterError | ValidationError)
            response = self.handle_exception(exc)
        finally:
            idempotency_key_var.reset(token)
        if store and response.status_code < 500:
            idempotency_complete(claim, status=response.status_code, body=response.data)
        else:
            idempotency_release(claim)
        return response

    def handle_exception(self, exc):
        response = exception_handler(exc, self.get_exception_handler_context())
        response.exception = True
        if isinstance(exc, ApiRateLimitError):
            response["Retry-After"] = str(exc.retry_after)
        return response


@csrf_exempt
def unrecognized(request, *args, **kwargs):
    """The last /v1 route: Stripe's 404 for any URL that names no endpoint."""
    error = unrecognized_url(request.method, request.path)
    return JsonResponse(error.as_dict(), status=error.status)
