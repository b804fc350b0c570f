import json
import logging
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from core.logging import luhn_valid, mask_card_numbers
from tests.conftest import ROOT

VISA = "4242424242424242"


def test_a_card_number_in_a_message_or_an_argument_never_reaches_the_log_output():
    # A fresh process with the project's real logging configuration, writing to its stderr.
    script = f"""
import django, logging
django.setup()
log = logging.getLogger("payments.test")
log.info("charging card {VISA} now")
log.info("charging card %s for %d", "4242 4242 4242 4242", 150000)
log.warning("dashed %s", "5555-5555-5555-4444")
try:
    raise ValueError("bad card 378282246310005")
except ValueError:
    log.exception("failed")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == 4
    for clear in (VISA, "4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005"):
        assert clear not in output
    assert lines[0]["message"] == "charging card 424242******4242 now"
    assert lines[1]["message"] == "charging card 4242 42** **** 4242 for 150000"
    assert lines[2]["message"] == "dashed 5555-55**-****-4444"
    assert "378282*****0005" in lines[3]["exc_info"]
    assert all(line["level"] in {"INFO", "WARNING", "ERROR"} for line in lines)


def test_records_seen_by_any_handler_are_masked(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("anything").info("pan=%s", VISA)
    assert VISA not in caplog.text
    assert "424242******4242" in caplog.text


def test_numbers_that_are_not_card_numbers_are_left_alone():
    assert mask_card_numbers("amount 150000 at 1732650000") == "amount 150000 at 1732650000"
    # 16 digits that fail the Luhn check, and a 24-digit id
    assert mask_card_numbers("ref 4242424242424241") == "ref 4242424242424241"
    assert mask_card_numbers("id 123456789012345678901234") == "id 123456789012345678901234"


def test_a_card_inside_a_longer_run_of_numbers_is_still_masked():
    assert VISA not in mask_card_numbers(f"order 12 {VISA} qty 3")
    assert "4242 4242 4242 4242" not in mask_card_numbers("x 7 4242 4242 4242 4242 5")


def _with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError


@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=18),
    sep=st.sampled_from(["", " ", "-"]),
    prefix=st.text(alphabet="abc :=", max_size=5),
)
def test_every_luhn_valid_13_to_19_digit_number_is_masked(body, sep, prefix):
    number = _with_check_digit(body)
    written = sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    masked = mask_card_numbers(f"{prefix}{written}.")
    digits_left = "".join(ch for ch in masked if ch.isdigit())
    assert digits_left == number[:6] + number[-4:]  # BIN and last 4 only
    assert len(masked) == len(prefix) + len(written) + 1


def test_the_log_line_of_a_refused_api_request_carries_its_request_id():
    # Django logs "Unauthorized: /v1/..." after the request id middleware has returned.
    script = """
import django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").get(
    "/v1/payment_intents", HTTP_AUTHORIZATION="Bearer not-a-key"
)
print("REQUEST-ID", response["Request-Id"], response.status_code)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [marker] = [line for line in result.stdout.splitlines() if line.startswith("REQUEST-ID")]
    _, request_id, status = marker.split()
    assert status == "401"
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    refused = [line for line in lines if line["logger"] == "django.request"]
    assert refused and all(line["request_id"] == request_id for line in refused)
