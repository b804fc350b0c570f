from unittest import mock

import pytest
from django.db import OperationalError


def test_healthz_answers_ok_without_touching_the_database(client):
    # No django_db mark: pytest-django fails the test if the view touches the database.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response["Request-Id"].startswith("req_")


@pytest.mark.django_db
def test_readyz_is_503_with_the_reason_when_the_broker_is_down(client):
    from config.celery import app

    with mock.patch.object(
        app, "connection_for_write", lambda: app.connection_for_write("redis://127.0.0.1:1/0")
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert any(f.startswith("broker:") for f in body["failures"])


@pytest.mark.django_db
def test_readyz_is_503_with_the_reason_when_the_database_is_down(client):
    with mock.patch(
        "core.views.connection.cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failures"] == ["database: OperationalError: connection refused"]


def test_request_id_from_the_caller_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-Id": "abc-123-def-456"})
    assert response["Request-Id"] == "abc-123-def-456"
