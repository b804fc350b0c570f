"""Errors with Stripe's shape: {"error": {"type", "code", "decline_code", "message", "param"}}.

Services raise these with a stable `code`; the API layer renders them (core.api).
"""


class APIError(Exception):
    status = 400
    type = "invalid_request_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}

    def as_dict(self) -> dict:
        body: dict = {"type": self.type, "message": self.message}
        if self.code:
            body["code"] = self.code
        if self.param:
            body["param"] = self.param
        if self.decline_code:
            body["decline_code"] = self.decline_code
        body.update(self.extra)
        return {"error": body}


class InvalidRequestError(APIError):
    status = 400


class ResourceMissingError(InvalidRequestError):
    status = 404
    default_code = "resource_missing"


class StateConflictError(InvalidRequestError):
    """The object is not in a state that allows the operation (Stripe answers 400)."""

    status = 400
    default_code = "payment_intent_unexpected_state"


class CardError(APIError):
    status = 402
    type = "card_error"


class AuthenticationError(APIError):
    status = 401
    type = "invalid_request_error"


class PermissionDeniedError(APIError):
    status = 403
    type = "invalid_request_error"
    default_code = "secret_key_required"


class IdempotencyError(APIError):
    status = 400
    type = "idempotency_error"
    default_code = "idempotency_key_in_use"


class ConflictError(APIError):
    status = 409
    type = "invalid_request_error"
    default_code = "lock_timeout"


class RateLimitError(APIError):
    status = 429
    type = "invalid_request_error"
    default_code = "rate_limit"


class ProcessorError(APIError):
    status = 500
    type = "api_error"
