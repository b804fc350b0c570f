"""The merchant's name, logo and brand colour on the checkout page: the logo decoded,
shrunk and re-encoded before it is kept, both served from the gateway's own origin, and
bad input refused with a reason."""

import base64
import hashlib
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from PIL import Image

from merchants.branding import (
    brand_palette,
    checkout_origin_clean,
    checkout_origins_clean,
    contrast,
    logo_process,
    merchant_branding_update,
)
from merchants.models import Merchant, MerchantLogo


def image_bytes(fmt: str, size=(1200, 300), color=(15, 118, 110, 255), **save) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    Image.new(mode, size, color[: len(mode)]).save(out, format=fmt, **save)
    return out.getvalue()


def test_the_page_shows_the_logo_and_the_brand_colour(client, make_session, merchant):
    merchant_branding_update(
        merchant=merchant, brand_color="#0F766E", logo=logo_process(image_bytes("PNG"))
    )
    session = make_session()
    html = client.get(f"/checkout/{session.public_id}").content.decode()
    assert 'id="merchant-name">Toko Kopi<' in html
    logo = re.search(r'<img class="merchant-logo" id="merchant-logo" src="([^"]+)"([^>]*)>', html)
    assert logo and logo.group(1) == f"/checkout/logo/{merchant.logo_digest}.png"
    # 1200 x 300 shrunk into 480 x 96, shown at half its pixels: the size is known ahead.
    assert 'width="192" height="48"' in logo.group(2)
    assert "merchant-mark" not in html
    theme = re.search(
        r'<link rel="stylesheet" href="(/checkout/theme/0f766e\.css)" integrity="([^"]+)"', html
    )
    assert theme is not None
    css = client.get(theme.group(1))
    assert css["Content-Type"].startswith("text/css")
    assert "--brand:#0f766e" in css.content.decode()
    digest = base64.b64encode(hashlib.sha384(css.content).digest()).decode()
    assert theme.group(2) == f"sha384-{digest}"  # the browser refuses anything else
    assert " style=" not in html and "<style" not in html  # the CSP stays strict


def test_without_branding_the_page_shows_the_initial_and_the_default_colour(client, make_session):
    html = client.get(f"/checkout/{make_session().public_id}").content.decode()
    assert '<span class="merchant-mark" aria-hidden="true">T</span>' in html
    assert "/checkout/theme/" not in html and "merchant-logo" not in html


def test_the_logo_is_served_from_the_gateway_as_a_small_png(client, merchant):
    jpeg = image_bytes("JPEG", size=(2000, 2000), color=(200, 30, 30), quality=95)
    merchant_branding_update(merchant=merchant, logo=logo_process(jpeg))
    response = client.get(f"/checkout/logo/{merchant.logo_digest}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response["Cache-Control"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    served = Image.open(io.BytesIO(response.content))
    assert (served.format, served.size) == ("PNG", (96, 96))
    assert hashlib.sha256(response.content).hexdigest() == merchant.logo_digest
    assert client.get(f"/checkout/logo/{'0' * 64}.png").status_code == 404


def test_the_logo_loses_its_metadata(merchant):
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Co"  # Make
    exif[0x8825] = {1: "S"}  # GPS
    jpeg = image_bytes("JPEG", size=(300, 100), color=(0, 0, 0), exif=exif.tobytes())
    assert b"Secret Camera Co" in jpeg
    logo = logo_process(jpeg)
    assert b"Secret Camera Co" not in logo.image
    assert Image.open(io.BytesIO(logo.image)).getexif() == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose an image file"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "PNG, JPEG or WebP",
        ),
        (image_bytes("GIF"), "PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG, JPEG or WebP"),  # a broken PNG
        (b"\x89PNG" + b"\x00" * (256 * 1024), "at most 256 KB"),
        (image_bytes("PNG", size=(5000, 4000), color=(255, 255, 255, 0)), "at most 4096 × 4096"),
    ],
)
def test_a_logo_that_is_not_a_small_raster_image_is_refused(data, message, merchant):
    with pytest.raises(ValidationError) as refused:
        logo_process(data)
    assert message in refused.value.messages[0]


def test_webp_is_accepted_and_transparency_kept(merchant):
    logo = logo_process(image_bytes("WEBP", size=(200, 100), color=(0, 0, 0, 0)))
    picture = Image.open(io.BytesIO(logo.image))
    assert picture.mode == "RGBA" and picture.getpixel((0, 0))[3] == 0


def test_replacing_and_removing_the_logo_keeps_one_row(merchant):
    first = merchant_branding_update(merchant=merchant, logo=logo_process(image_bytes("PNG")))
    assert first == {"logo": [None, merchant.logo_digest]}
    old = merchant.logo_digest
    merchant_branding_update(
        merchant=merchant, logo=logo_process(image_bytes("PNG", color=(1, 2, 3, 255)))
    )
    assert merchant.logo_digest != old
    assert list(MerchantLogo.objects.values_list("digest", flat=True)) == [merchant.logo_digest]
    assert merchant_branding_update(merchant=merchant, logo=None)["logo"][1] is None
    assert not MerchantLogo.objects.exists()
    assert Merchant.objects.get(pk=merchant.pk).logo_digest == ""


def test_the_database_refuses_a_brand_colour_that_is_not_rrggbb(merchant):
    for bad in ("red", "#12345", "#GGGGGG", "#0F766E", "#0f766;"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Merchant.objects.filter(pk=merchant.pk).update(brand_color=bad)
    Merchant.objects.filter(pk=merchant.pk).update(brand_color="#0f766e")


def test_a_bad_colour_changes_nothing(merchant):
    merchant_branding_update(merchant=merchant, brand_color="#123abc")
    with pytest.raises(ValidationError, match="#rrggbb"):
        merchant_branding_update(
            merchant=merchant, brand_color="blue", checkout_allowed_origins=["https://a.example"]
        )
    merchant.refresh_from_db()
    assert (merchant.brand_color, merchant.checkout_allowed_origins) == ("#123abc", [])


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example/", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_origins_are_kept_as_browsers_write_them(raw, origin):
    assert checkout_origin_clean(raw) == origin


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("http://shop.example", "must use https"),
        ("https://shop.example/checkout", "is not an origin"),
        ("https://*.shop.example", "is not an origin"),
        ("https://user:pw@shop.example", "is not an origin"),
        ("javascript:alert(1)", "is not an origin"),
        ("shop.example", "is not an origin"),
        ("https://shop.example:99999", "is not an origin"),
        ("https://shop.example?x=1", "is not an origin"),
    ],
)
def test_an_origin_that_is_not_https_or_not_an_origin_is_refused(raw, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        checkout_origin_clean(raw)


def test_origins_are_deduplicated_and_limited():
    assert checkout_origins_clean(["https://a.example", "https://A.example/", " "]) == [
        "https://a.example"
    ]
    with pytest.raises(ValidationError, match="at most 10"):
        checkout_origins_clean([f"https://s{i}.example" for i in range(11)])


@pytest.mark.parametrize("color", ["#ffeb3b", "#0f766e", "#000000", "#ffffff", "#777777"])
def test_any_brand_colour_keeps_the_text_readable(color):
    palette = brand_palette(color)
    assert contrast(palette["brand"], palette["ink"]) >= 4.5  # the pay button's label
    assert contrast(palette["link"], "#ffffff") >= 4.5  # links on the white card
