"""Settings read from the environment, as `make run` and production set it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setting(name: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("GATEWAY_BASE_URL",)}
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings.local")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import "
            f"settings; print(settings.{name})",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_links_follow_the_port_of_make_run_when_no_base_url_is_set():
    assert _setting("GATEWAY_BASE_URL", GATEWAY_PORT="8100") == "http://127.0.0.1:8100"


def test_an_explicit_base_url_wins_over_the_port():
    base = _setting(
        "GATEWAY_BASE_URL", GATEWAY_PORT="8100", GATEWAY_BASE_URL="https://pay.example.com/"
    )
    assert base == "https://pay.example.com"
