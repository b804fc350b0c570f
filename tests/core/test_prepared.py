"""core.prepared: a SELECT compiled once per connection answers as the ORM would."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from core.prepared import Prepared
from merchants.models import APIKey, Merchant, PricingPlan, PricingRate
from merchants.services import api_key_create

pytestmark = pytest.mark.django_db

KEY_BY_HASH = Prepared(
    lambda key_hash: APIKey.objects.select_related("merchant").filter(key_hash=key_hash)[:1]
)
KEYS_OF = Prepared(
    lambda merchant_id, livemode: APIKey.objects.filter(
        merchant_id=merchant_id, livemode=livemode
    ).order_by("id")
)
KEYS_USED_SINCE = Prepared(
    lambda merchant_id, since: APIKey.objects.filter(
        merchant_id=merchant_id, last_used_at__gte=since
    ).values_list("prefix", flat=True)
)


def _merchant(name: str) -> Merchant:
    return Merchant.objects.create(name=name)


def test_rows_and_related_objects_as_the_orm_builds_them(django_assert_num_queries):
    merchant = _merchant("Toko Satu")
    key = api_key_create(merchant=merchant, livemode=False, kind="secret").api_key
    orm = APIKey.objects.select_related("merchant").get(pk=key.pk)
    with django_assert_num_queries(1):  # the merchant came with the key
        found = KEY_BY_HASH.first(key_hash=key.key_hash)
        assert found.merchant.name == "Toko Satu"
    assert found == orm
    assert {f.attname: getattr(found, f.attname) for f in APIKey._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in APIKey._meta.concrete_fields
    }
    assert found._state.adding is False and found._state.db == "default"


def test_each_run_uses_its_own_values(django_assert_num_queries):
    first, second = _merchant("A"), _merchant("B")
    key_a = api_key_create(merchant=first, livemode=False, kind="secret").api_key
    key_b = api_key_create(merchant=second, livemode=False, kind="secret").api_key
    assert KEY_BY_HASH.first(key_hash=key_a.key_hash).merchant == first
    with django_assert_num_queries(1):
        assert KEY_BY_HASH.first(key_hash=key_b.key_hash).merchant == second
    assert KEY_BY_HASH.first(key_hash="0" * 64) is None


def test_a_bool_is_a_variant_compiled_for_each_value():
    merchant = _merchant("Toko")
    test_key = api_key_create(merchant=merchant, livemode=False, kind="secret").api_key
    live_key = api_key_create(merchant=merchant, livemode=True, kind="secret").api_key
    test_keys = KEYS_OF.fetch(merchant_id=merchant.pk, livemode=False)
    live_keys = KEYS_OF.fetch(merchant_id=merchant.pk, livemode=True)
    assert [k.pk for k in test_keys] == list(
        APIKey.objects.filter(merchant=merchant, livemode=False).values_list("pk", flat=True)
    )
    assert test_key.pk in {k.pk for k in test_keys} and live_key.pk not in {k.pk for k in test_keys}
    assert live_key.pk in {k.pk for k in live_keys}
    assert all(k.livemode for k in live_keys)


def test_datetimes_are_parameters():
    merchant = _merchant("Toko")
    key = api_key_create(merchant=merchant, livemode=False, kind="secret").api_key
    used = timezone.now() - dt.timedelta(minutes=5)
    APIKey.objects.filter(pk=key.pk).update(last_used_at=used)
    before = used - dt.timedelta(seconds=1)
    after = used + dt.timedelta(seconds=1)
    assert KEYS_USED_SINCE.fetch(merchant_id=merchant.pk, since=before) == [key.prefix]
    assert KEYS_USED_SINCE.fetch(merchant_id=merchant.pk, since=after) == []


def test_annotations_and_value_rows():
    plan = PricingPlan.objects.create(name="Prepared plan")
    PricingRate.objects.create(plan=plan, payment_method_type="*", currency="idr")
    PricingRate.objects.create(plan=plan, payment_method_type="card", currency="idr")
    ranked = Prepared(
        lambda plan_id: (
            PricingRate.objects.filter(plan_id=plan_id)
            .annotate(
                rank=Case(
                    When(payment_method_type="*", then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
            .order_by("rank")
        )
    )
    rates = ranked.fetch(plan_id=plan.pk)
    assert [(r.payment_method_type, r.rank) for r in rates] == [("card", 0), ("*", 1)]
    pairs = Prepared(
        lambda plan_id: (
            PricingRate.objects.filter(plan_id=plan_id)
            .order_by("payment_method_type")
            .values_list("payment_method_type", "currency")
        )
    )
    assert pairs.fetch(plan_id=plan.pk) == [("*", "idr"), ("card", "idr")]


def test_a_value_that_does_not_reach_the_sql_as_given_is_refused():
    merchant = _merchant("Toko")
    contains = Prepared(lambda name: Merchant.objects.filter(name__icontains=name))
    with pytest.raises(ValueError, match="did not reach the SQL"):
        contains.fetch(name="ok")
    with pytest.raises(TypeError, match="list"):
        KEYS_OF.fetch(merchant_id=merchant.pk, livemode=[False])


@pytest.mark.django_db(transaction=True)
def test_select_for_update_needs_a_transaction_on_every_run():
    merchant = _merchant("Toko")
    locked = Prepared(lambda pk: Merchant.objects.select_for_update().filter(pk=pk))
    with transaction.atomic():
        assert locked.first(pk=merchant.pk) == merchant
    with pytest.raises(TransactionManagementError):
        locked.first(pk=merchant.pk)
