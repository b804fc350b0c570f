"""Checkout branding (issue #7): a merchant's brand colour and logo on the hosted checkout
page, and the origins allowed to embed that page in an iframe.

Everything a merchant sends is checked here and reduced to a safe form before it is kept:
the colour to lowercase #rrggbb, each origin to scheme://host[:port], the logo decoded by
Pillow (PNG, JPEG or WebP only), shrunk and re-encoded as a small PNG, so no metadata,
script or oversized picture from the upload ever reaches a customer.
"""

import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from merchants.models import Merchant, MerchantLogo

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 256 * 1024
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
# Pixels decoded at most (an upload of 256 KB can still claim a huge canvas).
LOGO_MAX_PIXELS = 4096 * 4096
# The page shows a logo at most 240 x 48 CSS pixels: twice that is sharp on any screen.
LOGO_BOX = (480, 96)
MAX_ORIGINS = 10
# http is accepted only for these hosts, and only test-mode checkouts use it.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


# --- validation -------------------------------------------------------------------------


def brand_color_clean(value: str | None) -> str:
    """ "" (the gateway's colour) or a lowercase #rrggbb."""
    value = (value or "").strip()
    if not value:
        return ""
    if not COLOR.match(value):
        raise ValidationError("Enter the colour as #rrggbb, for example #0f766e.")
    return value.lower()


def checkout_origin_clean(value: str) -> str:
    """One origin as browsers write it: https://shop.example or https://shop.example:8443
    (default ports dropped). http only for localhost and 127.0.0.1."""
    raw = value.strip()
    invalid = ValidationError(
        f"“{raw[:100]}” is not an origin: write the scheme, host and port only, "
        "for example https://shop.example."
    )
    parts = urlsplit(raw)
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise invalid from None
    scheme = parts.scheme.lower()
    if (
        scheme not in ("https", "http")
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
        or "," in parts.netloc
        or not _HOST.match(host)
    ):
        raise invalid
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise ValidationError(
            f"{raw[:100]} must use https (http is accepted for localhost and 127.0.0.1 only, "
            "in test mode)."
        )
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def checkout_origins_clean(values: Iterable[str]) -> list[str]:
    """The list of embedding origins, each checked, without repeats, at most MAX_ORIGINS."""
    origins: list[str] = []
    errors: list[ValidationError] = []
    for value in values:
        if not value.strip():
            continue
        try:
            origin = checkout_origin_clean(value)
        except ValidationError as exc:
            errors.append(exc)
            continue
        if origin not in origins:
            origins.append(origin)
    if errors:
        raise ValidationError(errors)
    if len(origins) > MAX_ORIGINS:
        raise ValidationError(f"Register at most {MAX_ORIGINS} origins.")
    return origins


def embedding_origins(merchant: Merchant, *, livemode: bool) -> list[str]:
    """The origins that may frame this merchant's checkout in this mode: live checkouts
    only ever on https pages."""
    origins = list(merchant.checkout_allowed_origins or [])
    if livemode:
        origins = [o for o in origins if o.startswith("https://")]
    return origins


@dataclass(frozen=True)
class ProcessedLogo:
    image: bytes  # PNG
    width: int
    height: int
    digest: str  # sha256 hex of image


def logo_process(data: bytes) -> ProcessedLogo:
    """Decode an uploaded logo (PNG, JPEG or WebP, at most 256 KB), apply its EXIF
    rotation, shrink it into LOGO_BOX and re-encode it as PNG. Raises ValidationError
    with a message for the merchant."""
    if not data:
        raise ValidationError("Choose an image file for the logo.")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(
            f"The logo is {len(data) // 1024} KB; upload one of at most "
            f"{LOGO_MAX_BYTES // 1024} KB."
        )
    not_an_image = ValidationError("Upload the logo as a PNG, JPEG or WebP image.")
    try:
        with Image.open(io.BytesIO(data), formats=LOGO_FORMATS) as img:
            if img.width * img.height > LOGO_MAX_PIXELS:
                raise ValidationError(
                    f"The logo is {img.width} × {img.height} pixels; upload one of at most "
                    "4096 × 4096."
                )
            img.load()
            picture = ImageOps.exif_transpose(img)
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        raise not_an_image from None
    except ValueError:
        raise not_an_image from None
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    picture = picture.convert("RGBA" if has_alpha else "RGB")
    picture.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    image = out.getvalue()
    return ProcessedLogo(
        image=image,
        width=picture.width,
        height=picture.height,
        digest=hashlib.sha256(image).hexdigest(),
    )


# --- colours for the page ----------------------------------------------------------------


def _luminance(color: str) -> float:
    """WCAG relative luminance of #rrggbb."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _darken(color: str, factor: float) -> str:
    r, g, b = (round(int(color[i : i + 2], 16) * factor) for i in (1, 3, 5))
    return f"#{r:02x}{g:02x}{b:02x}"


def brand_palette(color: str) -> dict[str, str]:
    """The page's colours from one brand colour, readable whatever the merchant picked:
    `ink` (text on the brand colour: white or black, whichever contrasts more: at least
    4.58:1 for any colour),
    `dark` (hover) and `link` (the brand colour darkened until it reads on white, 4.5:1)."""
    color = brand_color_clean(color) or "#1d4ed8"
    ink = "#ffffff" if contrast(color, "#ffffff") >= contrast(color, "#000000") else "#000000"
    link = color
    while contrast(link, "#ffffff") < 4.5:
        link = _darken(link, 0.9)
    return {"brand": color, "ink": ink, "dark": _darken(color, 0.8), "link": link}


# --- the service ------------------------------------------------------------------------

_UNSET = object()


def merchant_branding_update(
    *,
    merchant: Merchant,
    brand_color: object = _UNSET,
    logo: object = _UNSET,
    checkout_allowed_origins: object = _UNSET,
) -> dict:
    """Change the checkout branding: `brand_color` ("" for the default), `logo` (a
    ProcessedLogo from logo_process, or None to remove it), `checkout_allowed_origins`
    (a list of origins). Values are checked again here; a bad one raises ValidationError
    and changes nothing. One transaction under the merchant's row lock. Returns
    {field: [before, after]} of what changed, for the audit log (the logo by digest)."""
    changes: dict = {}
    if brand_color is not _UNSET:
        changes["brand_color"] = brand_color_clean(str(brand_color or ""))
    if checkout_allowed_origins is not _UNSET:
        changes["checkout_allowed_origins"] = checkout_origins_clean(
            list(checkout_allowed_origins or [])
        )
    if logo is not _UNSET and logo is not None and not isinstance(logo, ProcessedLogo):
        raise ValidationError("logo must be processed by logo_process().")
    changed: dict = {}
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        for name, value in changes.items():
            if getattr(locked, name) != value:
                changed[name] = [getattr(locked, name), value]
                setattr(locked, name, value)
        if logo is not _UNSET:
            new_digest = logo.digest if logo is not None else ""
            if locked.logo_digest != new_digest:
                changed["logo"] = [locked.logo_digest or None, new_digest or None]
                locked.logo_digest = new_digest
                MerchantLogo.objects.filter(merchant=locked).delete()
                if logo is not None:
                    MerchantLogo.objects.create(
                        merchant=locked,
                        digest=logo.digest,
                        image=logo.image,
                        width=logo.width,
                        height=logo.height,
                    )
        if changed:
            fields = [n if n != "logo" else "logo_digest" for n in changed]
            locked.save(update_fields=[*fields, "updated_at"])
    for name in ("brand_color", "checkout_allowed_origins", "logo_digest"):
        setattr(merchant, name, getattr(locked, name))
    return changed
