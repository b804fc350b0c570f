"""No card number and no CVC anywhere but in the vault's ciphertext (DESIGN.md §6).

One end-to-end run takes cards every way a client can give them: raw numbers (plain, spaced,
dashed) with a CVC in payment_method_data on create and on confirm, a PaymentMethod created
from card details, test tokens, a decline, a card error, a manual capture, refunds and an
authorization whose answer is lost (so that a recovery task is sent through the broker).
Then every table is read twice (through the models and with a plain SELECT * of every table
that introspection finds), every log line is searched, and every Celery message sent.
"""

import io
import json
import logging
import re
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import connection, models
from kombu import Producer
from rest_framework.test import APIClient

from config.celery import app as celery_app
from payments.models import PaymentIntent, Transaction, TransactionStatus, VaultCard
from payments.services.payment_intents import transaction_resolve
from sandbox import faults

pytestmark = pytest.mark.django_db(transaction=True)

# The CVCs are unusual on purpose, so that finding one means it leaked.
CVC3, CVC4, BAD_CVC = "731", "9173", "7319"
CARDS = {
    # number: how the client writes it
    "4000056655665556": "4000 0566 5566 5556",
    "5555555555554444": "5555-5555-5555-4444",
    "378282246310005": "378282246310005",
    "4000000000000002": "4000 0000 0000 0002",
    "4242424242424242": "4242424242424242",
    "6011111111111117": "6011 1111 1111 1117",
}
CVCS = {"378282246310005": CVC4}  # amex has four digits; the others CVC3


def _spellings(number: str) -> set[str]:
    """The ways a number is written: plain, and in groups of 4 (or amex's 4-6-5) joined
    by a space or a dash."""
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    amex = [number[:4], number[4:10], number[10:]]
    return {number} | {sep.join(g) for g in (groups, amex) for sep in (" ", "-", "  ")}


def _find_number(text: str) -> str | None:
    """A card number in `text`, however spaced (separators are dropped before searching)."""
    squeezed = re.sub(r"[\s\-]", "", text)
    for number in CARDS:
        if number in squeezed or any(s in text for s in _spellings(number)):
            return number
    return None


_CVC_PATTERNS = [
    re.compile(rf"(?<![0-9A-Za-z]){cvc}(?![0-9A-Za-z])") for cvc in (CVC3, CVC4, BAD_CVC)
]


def _find_cvc(text: str) -> str | None:
    for pattern in _CVC_PATTERNS:
        if match := pattern.search(text):
            return match.group()
    return None


class _FormClient(APIClient):
    def post(self, path, data=None, **extra):
        return self.generic(
            "POST",
            path,
            urlencode(data or {}),
            content_type="application/x-www-form-urlencoded",
            **extra,
        )


def _card_data(number: str, prefix: str = "payment_method_data") -> dict:
    return {
        f"{prefix}[type]": "card",
        f"{prefix}[card][number]": CARDS[number],
        f"{prefix}[card][exp_month]": "9",
        f"{prefix}[card][exp_year]": "2033",
        f"{prefix}[card][cvc]": CVCS.get(number, CVC3),
    }


@pytest.fixture
def client(api_key_for, merchant):
    client = _FormClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(merchant)}")
    return client


@pytest.fixture
def logs(caplog):
    """Every log record at DEBUG from every logger, and what the root handlers print."""
    for name in [None, *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    stream = io.StringIO()
    swapped = [
        (handler, handler.setStream(stream))
        for handler in logging.root.handlers
        if type(handler) is logging.StreamHandler
    ]
    assert swapped, "the configured root handler (settings.LOGGING console) is missing"
    try:
        yield caplog, stream
    finally:
        for handler, previous in swapped:
            handler.setStream(previous)


@pytest.fixture
def task_messages(monkeypatch):
    """Celery task calls (eager, with their args) and messages published to the broker."""
    calls: list = []
    published: list = []
    original_apply_async = celery_app.Task.apply_async

    def apply_async(self, args=None, kwargs=None, *rest, **options):
        calls.append({"task": self.name, "args": args, "kwargs": kwargs, "options": options})
        return original_apply_async(self, args, kwargs, *rest, **options)

    def publish(self, body, *args, **kwargs):  # recorded, not sent: no worker runs here
        published.append({"body": body, "headers": kwargs.get("headers")})

    monkeypatch.setattr(celery_app.Task, "apply_async", apply_async)
    monkeypatch.setattr(Producer, "publish", publish)
    return calls, published


def _run_every_way_a_card_comes_in(client) -> None:
    def ok(response):
        assert response.status_code == 200, response.content
        return response.json()

    # Raw numbers with a CVC on create + confirm, automatic and manual capture.
    paid = ok(
        client.post(
            "/v1/payment_intents",
            {
                "amount": 150000,
                "currency": "idr",
                "confirm": "true",
                **_card_data("4000056655665556"),
            },
        )
    )
    assert paid["status"] == "succeeded"
    ok(client.post("/v1/refunds", {"payment_intent": paid["id"], "amount": 50000}))
    held = ok(
        client.post(
            "/v1/payment_intents",
            {
                "amount": 90000,
                "currency": "idr",
                "confirm": "true",
                "capture_method": "manual",
                **_card_data("5555555555554444"),
            },
        )
    )
    assert held["status"] == "requires_capture"
    ok(client.post(f"/v1/payment_intents/{held['id']}/capture", {"amount_to_capture": 80000}))
    # A raw number on confirm of an existing intent (amex, four-digit CVC).
    intent = ok(client.post("/v1/payment_intents", {"amount": 70000, "currency": "idr"}))
    assert (
        ok(
            client.post(
                f"/v1/payment_intents/{intent['id']}/confirm", _card_data("378282246310005")
            )
        )["status"]
        == "succeeded"
    )
    # A decline and a card error (bad CVC) with raw numbers.
    declined = client.post(
        "/v1/payment_intents",
        {"amount": 1000, "currency": "idr", "confirm": "true", **_card_data("4000000000000002")},
    )
    assert declined.status_code == 402
    bad = {**_card_data("4242424242424242"), "payment_method_data[card][cvc]": BAD_CVC}
    assert client.post(f"/v1/payment_intents/{intent['id']}/confirm", bad).status_code in (400, 402)
    # A PaymentMethod from card details, then used, attached and listed.
    pm = ok(
        client.post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": CARDS["6011111111111117"],
                "card[exp_month]": "3",
                "card[exp_year]": "2031",
                "card[cvc]": CVC3,
            },
        )
    )
    customer = ok(client.post("/v1/customers", {"email": "buyer@example.com"}))
    ok(client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]}))
    ok(
        client.post(
            "/v1/payment_intents",
            {"amount": 20000, "currency": "idr", "payment_method": pm["id"], "confirm": "true"},
        )
    )
    ok(client.get("/v1/payment_methods", {"customer": customer["id"]}))
    # Test tokens.
    for token in ("pm_card_visa", "tok_mastercard"):
        ok(
            client.post(
                "/v1/payment_intents",
                {"amount": 30000, "currency": "idr", "payment_method": token, "confirm": "true"},
            )
        )


def _authorize_with_a_lost_answer(client) -> None:
    """A raw-number confirm whose answer is lost: its inquiry goes to the broker."""
    faults.inject("approve_then_timeout")
    celery_app.conf.task_always_eager = False
    try:
        response = client.post(
            "/v1/payment_intents",
            {
                "amount": 40000,
                "currency": "idr",
                "confirm": "true",
                **_card_data("4242424242424242"),
            },
        )
    finally:
        celery_app.conf.task_always_eager = True
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processing"
    unknown = Transaction.objects.get(status=TransactionStatus.UNKNOWN)
    assert transaction_resolve(transaction_pk=unknown.pk) == TransactionStatus.SUCCEEDED


_TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _as_text(value) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _model_values():
    """(where, text) for every text, JSON and binary field of every row of every model."""
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, _TEXT_FIELDS)]
        if not fields:
            continue
        names = [f.attname for f in fields]
        for row in model._base_manager.values_list("pk", *names):
            for name, value in zip(names, row[1:], strict=True):
                if value is not None:
                    yield f"{model._meta.db_table}.{name} (pk {row[0]})", _as_text(value)


def _table_values():
    """(where, text, is_textual) for every column of every row of every table, read with a
    plain SELECT *, as a dump would."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    textual = isinstance(value, str | bytes | memoryview | dict | list)
                    yield f"{table}.{column}", _as_text(value), textual


def test_no_card_number_or_cvc_is_stored_logged_or_queued(client, logs, task_messages):
    caplog, stream = logs
    calls, published = task_messages

    _run_every_way_a_card_comes_in(client)
    _authorize_with_a_lost_answer(client)

    # The run did what it claims (or the searches below would prove nothing).
    assert PaymentIntent.objects.filter(status="succeeded").count() == 7
    assert VaultCard.objects.filter(last4__in=[n[-4:] for n in CARDS]).count() >= len(CARDS)
    assert published, "no Celery message was published during the run"
    assert calls

    # The database, through the models.
    leaks = []
    for where, text in _model_values():
        if (number := _find_number(text)) or (number := _find_cvc(text)):
            leaks.append((where, number))
    assert not leaks, leaks

    # The database, as a dump of every table sees it.
    seen_tables = set()
    for where, text, textual in _table_values():
        seen_tables.add(where.split(".")[0])
        if number := _find_number(text):
            leaks.append((where, number))
        # A CVC can only hide in a textual column; numbers and timestamps would match by
        # chance ("…:07.731").
        if textual and (cvc := _find_cvc(text)):
            leaks.append((where, cvc))
    assert not leaks, leaks
    assert {"payments_vaultcard", "payments_paymentmethod", "sandbox_authorization"} <= seen_tables
    for vault_card in VaultCard.objects.all():
        for blob in (bytes(vault_card.ciphertext), bytes(vault_card.wrapped_key)):
            assert _find_number(blob.decode("latin-1")) is None
            assert not any(n.encode() in blob for n in CARDS)

    # Logs: every record (message, arguments, traceback) and what the root handler printed.
    assert caplog.records, "nothing was logged: the log search proves nothing"
    for record in caplog.records:
        texts = [record.getMessage(), repr(record.args), record.exc_text or ""]
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
        for text in texts:
            if (found := _find_number(text)) or (found := _find_cvc(text)):
                leaks.append((record.name, found, text[:200]))
    printed = stream.getvalue()
    assert printed, "the root handler printed nothing"
    for line in printed.splitlines():
        if _find_number(line):
            leaks.append(("root handler", line[:200]))
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"line": line}
        entry.pop("time", None)  # "…,731" milliseconds are not a CVC
        if _find_cvc(json.dumps(entry)):
            leaks.append(("root handler", line[:200]))
    assert not leaks, leaks

    # Celery: the arguments of every task call, and every message body and header sent.
    for message in [*calls, *published]:
        text = json.dumps(message, default=repr)
        if (found := _find_number(text)) or (found := _find_cvc(text)):
            leaks.append((message.get("task"), found))
    assert not leaks, leaks
