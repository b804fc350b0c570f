"""Log plumbing: a request id on every record, and no card number in clear in any record."""

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# The Idempotency-Key of the API request being served, for the events it causes.
idempotency_key_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "idempotency_key", default=""
)

# Runs of digits separated by at most one space or dash: the shapes card numbers are
# written in ("4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242").
_DIGIT_RUNS = re.compile(r"\d+(?:[ -]\d+)*")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_run(run: str) -> str:
    # Candidates are whole groups joined by their separators, 13 to 19 digits in all, so a
    # card number inside a longer run ("order 12 4242 4242 4242 4242") is still found, while
    # an unbroken run of 20+ digits (an id, not a card) is left alone.
    groups = [m for m in re.finditer(r"\d+", run)]
    masked = list(run)
    for start in range(len(groups)):
        count = 0
        for end in range(start, len(groups)):
            count += len(groups[end].group())
            if count > 19:
                break
            if count < 13:
                continue
            digits = "".join(g.group() for g in groups[start : end + 1])
            if luhn_valid(digits):
                keep_head, keep_tail = 6, 4
                seen = 0
                for g in groups[start : end + 1]:
                    for pos in range(g.start(), g.end()):
                        if keep_head <= seen < count - keep_tail:
                            masked[pos] = "*"
                        seen += 1
    return "".join(masked)


def mask_card_numbers(text: str) -> str:
    """Replace the middle digits of anything shaped like a Luhn-valid card number."""
    if not any(ch.isdigit() for ch in text):
        return text
    return _DIGIT_RUNS.sub(lambda m: _mask_run(m.group()), text)


_previous_factory = logging.getLogRecordFactory()


def _masking_record_factory(*args, **kwargs) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the record, logging reports it
        return record
    masked = mask_card_numbers(message)
    if masked != message or record.args:
        record.msg, record.args = masked, None
    if record.exc_info:
        # Formatters would render exc_info afresh, card numbers and all; hand them only the
        # masked text (every formatter prints exc_text when exc_info is empty).
        text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        record.exc_text, record.exc_info = mask_card_numbers(text), None
    return record


def install_card_masking() -> None:
    """Mask card numbers in every record as it is created, whichever handler gets it.

    Records are made only for enabled levels, so the cost is one format per logged line.
    """
    if logging.getLogRecordFactory() is not _masking_record_factory:
        logging.setLogRecordFactory(_masking_record_factory)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id == "-":
            # Django logs a 4xx/5xx answer ("Bad Request: /v1/...") after the middleware
            # that set the id has returned; the record carries the request itself.
            request_id = getattr(getattr(record, "request", None), "request_id", "-")
        record.request_id = request_id
        return True
