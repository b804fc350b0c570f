"""Live-mode webhook URLs cannot reach our own network: checked at registration and again
when connecting, after DNS resolution, against every address."""

import ipaddress
import socket

import pytest

from webhooks.models import WebhookDelivery
from webhooks.ssrf import address_refusal, parse_target, safe_post

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = [
    "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "169.254.1.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:8.8.8.8", "2002:7f00:1::1", "192.0.2.1", "198.18.0.1",
]  # fmt: skip


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.fixture
def live_client(merchant, api_key_for):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(merchant, livemode=True)}")
    return client


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://93.184.216.34/hook", "must use https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://100.64.0.7/hook", "CGNAT"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "IPv4-mapped"),
        ("https://[fd00:ec2::254]/hook", "metadata"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://2130706433/hook", "numeric form"),
        ("https://0177.0.0.1/hook", "numeric form"),
        ("https://0x7f.0.0.1/hook", "numeric form"),
        ("https://0x7f000001/hook", "numeric form"),
        ("https://localhost/hook", "loopback"),
        ("ftp://93.184.216.34/", "scheme"),
        ("https://user:pw@93.184.216.34/", "credentials"),
    ],
)
def test_live_registration_refuses_unsafe_urls_with_a_clear_400(live_client, url, message):
    response = live_client.post("/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("url", "url_invalid")
    assert message in error["message"]


def test_numeric_ip_forms_are_refused_in_test_mode_too(api_client):
    for url in ("http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/"):
        response = api_client.post("/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]})
        assert response.status_code == 400, url


def test_test_mode_may_target_localhost_unless_the_setting_forbids_it(api_client, settings):
    ok = api_client.post(
        "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/x", "enabled_events": ["*"]}
    )
    assert ok.status_code == 200
    settings.GATEWAY_WEBHOOKS_ALLOW_PRIVATE_IN_TEST = False
    refused = api_client.post(
        "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/x", "enabled_events": ["*"]}
    )
    assert refused.status_code == 400
    assert "loopback" in refused.json()["error"]["message"]


def _fake_dns(monkeypatch, answers: dict[str, list[str]]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port))
                for a in answers[host]
            ]  # fmt: skip
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_that_resolves_to_a_private_address_at_delivery_is_not_connected(
    live_client, monkeypatch, receiver
):
    hook = receiver()
    # Public when registered; rebinds to loopback (where a receiver listens) afterwards.
    _fake_dns(monkeypatch, {"hooks.merchant.example": ["93.184.216.34"]})
    port = hook.server.server_address[1]
    endpoint = live_client.post(
        "/v1/webhook_endpoints",
        {"url": f"https://hooks.merchant.example:{port}/x", "enabled_events": ["*"]},
    )
    assert endpoint.status_code == 200
    _fake_dns(monkeypatch, {"hooks.merchant.example": ["93.184.216.34", "127.0.0.1"]})
    live_client.post("/v1/customers", {"email": "a@example.com"})

    attempt = WebhookDelivery.objects.get().attempts.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("refused:")
    assert "127.0.0.1" in attempt.error and "loopback" in attempt.error
    assert hook.requests == []


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    monkeypatch, receiver, settings
):
    hook = receiver()
    port = hook.server.server_address[1]
    _fake_dns(monkeypatch, {"receiver.test": ["127.0.0.1"]})
    result = safe_post(
        f"http://receiver.test:{port}/in?x=1",
        body=b"{}",
        headers={"Content-Type": "application/json"},
        livemode=False,
        timeout=5,
    )
    assert (result.status_code, result.error) == (200, "")
    assert hook.requests[0]["headers"]["Host"] == f"receiver.test:{port}"
    assert hook.requests[0]["path"] == "/in?x=1"
    settings.GATEWAY_WEBHOOKS_ALLOW_PRIVATE_IN_TEST = False
    refused = safe_post(
        f"http://receiver.test:{port}/in", body=b"{}", headers={}, livemode=False, timeout=5
    )
    assert refused.status_code is None and "loopback" in refused.error
    assert len(hook.requests) == 1


def test_parse_target_keeps_path_and_query_and_default_ports():
    target = parse_target("https://Example.COM/a/b?c=d", livemode=True)
    assert (target.host, target.port, target.path) == ("example.com", 443, "/a/b?c=d")
