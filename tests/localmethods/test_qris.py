"""QRIS payloads: every one we generate is EMVCo TLV with a valid CRC that the sandbox
acquirer (an independent decoder) accepts, and its SVG scans back to the same payload."""

import io
import string

import cairosvg
import pytest
import zxingcpp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from payments.qris import MerchantAccount, ascii_fit, crc16_ccitt_false, qr_svg, qris_payload
from sandbox.qris import QrisError, decode, parse_tlv

ACCOUNT = MerchantAccount(
    global_id="ID.CO.SANDBOX.WWW", merchant_pan="936009990012345678", merchant_id="acct_1234"
)
references = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=20).map(
    lambda s: "txn_" + s
)
names = st.one_of(
    st.text(min_size=0, max_size=120),  # anything, non-ASCII and control characters included
    st.sampled_from(
        [
            "Toko Kopi Café Ñusantara Jaya Abadi Sentosa",
            "株式会社 東京",
            "Warung Bu Één",
            "   ",
            "x" * 25,
            "y" * 26,
            "🍜 Mie Ayam 🍜",
        ]
    ),
)


def _scan(svg: str) -> str:
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=600, background_color="white")
    image = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, "the rendered SVG holds exactly one readable QR code"
    return found[0].text


def test_crc_is_ccitt_false():
    assert crc16_ccitt_false(b"123456789") == 0x29B1  # the catalogue's check value


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=10_000_000),
    name=names,
    city=names,
    reference=references,
)
def test_every_payload_is_emvco_tlv_with_a_valid_crc(amount, name, city, reference):
    payload = qris_payload(
        account=ACCOUNT,
        amount_rupiah=amount,
        merchant_name=name,
        merchant_city=city,
        reference=reference,
    )
    fields = decode(payload)  # the sandbox acquirer's own parser and CRC check
    assert [tag for tag, _ in parse_tlv(payload)] == [
        "00", "01", "26", "52", "53", "54", "58", "59", "60", "62", "63"
    ]  # fmt: skip
    assert (fields["00"], fields["01"], fields["53"], fields["58"]) == ("01", "12", "360", "ID")
    assert fields["54"] == str(amount)
    assert fields["26"] == {
        "00": ACCOUNT.global_id,
        "01": ACCOUNT.merchant_pan,
        "02": ACCOUNT.merchant_id,
        "03": "UMI",
    }
    assert fields["62"]["05"] == reference
    assert 1 <= len(fields["59"]) <= 25 and fields["59"] == ascii_fit(name, 25, fallback="MERCHANT")
    assert 1 <= len(fields["60"]) <= 15
    assert payload.isascii() and payload.isprintable()
    assert payload[-8:-4] == "6304"
    assert int(payload[-4:], 16) == crc16_ccitt_false(payload[:-4].encode())


def test_names_are_transliterated_and_cut_to_fit_tag_59():
    assert ascii_fit("Toko Kopi Café Ñusantara Jaya Abadi", 25, fallback="M") == (
        "Toko Kopi Cafe Nusantara"
    )
    assert ascii_fit("株式会社", 25, fallback="MERCHANT") == "MERCHANT"
    assert ascii_fit("Warung\tBu  Één\n", 25, fallback="M") == "Warung Bu Een"


@pytest.mark.parametrize("tamper", ["crc", "amount", "truncate"])
def test_a_tampered_payload_is_refused_by_the_acquirer(tamper):
    payload = qris_payload(
        account=ACCOUNT, amount_rupiah=15000, merchant_name="Toko", merchant_city="Jakarta",
        reference="txn_abc",
    )  # fmt: skip
    if tamper == "crc":
        bad = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    elif tamper == "amount":
        bad = payload.replace("540515000", "540515001")
    else:
        bad = payload[:-3]
    with pytest.raises(QrisError):
        decode(bad)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # rasterizing costs ~50 ms
@given(amount=st.integers(min_value=1, max_value=10_000_000), name=names, reference=references)
# zxing once read a second, non-QR "barcode" in this one's modules (see _scan)
@example(amount=100000, name="0", reference="txn_0000000000")
def test_the_rendered_svg_decodes_back_to_the_same_payload(amount, name, reference):
    payload = qris_payload(
        account=ACCOUNT,
        amount_rupiah=amount,
        merchant_name=name,
        merchant_city="Jakarta",
        reference=reference,
    )
    assert _scan(qr_svg(payload)) == payload


def test_an_ewallet_link_scans_back_too():
    url = "http://127.0.0.1:8000/sandbox/wallet/gopay/sbx_gopa_0123456789abcdefghij"
    assert _scan(qr_svg(url)) == url
