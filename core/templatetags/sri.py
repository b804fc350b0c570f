"""Subresource Integrity for our own static files: `{% sri_script "checkout/checkout.js" %}`
and `{% sri_stylesheet "checkout/checkout.css" %}` render the tag with its sha384 digest
(and the CSP nonce for scripts), computed from the file once per process."""

import base64
import hashlib
from functools import lru_cache

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


def _read(path: str) -> bytes:
    found = finders.find(path)
    if found:
        with open(found, "rb") as handle:
            return handle.read()
    with staticfiles_storage.open(path) as handle:  # collected files only (production)
        return handle.read()


@lru_cache(maxsize=64)
def _cached_integrity(path: str) -> str:
    return integrity(path, cached=False)


def integrity(path: str, *, cached: bool = True) -> str:
    """sha384-<base64> of a static file. Cached unless DEBUG (files change while editing)."""
    if cached and not settings.DEBUG:
        return _cached_integrity(path)
    digest = hashlib.sha384(_read(path)).digest()
    return "sha384-" + base64.b64encode(digest).decode()


@register.simple_tag(takes_context=True)
def sri_script(context, path: str, defer: bool = True) -> str:
    nonce = context.get("csp_nonce")  # a LazyNonce: falsy until read, so test for None
    return format_html(
        '<script src="{}" integrity="{}" crossorigin="anonymous"{}{}></script>',
        static(path),
        integrity(path),
        format_html(' nonce="{}"', nonce) if nonce is not None else "",
        " defer" if defer else "",
    )


@register.simple_tag
def sri_stylesheet(path: str) -> str:
    return format_html(
        '<link rel="stylesheet" href="{}" integrity="{}" crossorigin="anonymous">',
        static(path),
        integrity(path),
    )
