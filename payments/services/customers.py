"""Customer writes. Scoped by merchant and mode; a deleted customer stays as a tombstone."""

from typing import TypedDict

from django.db import transaction
from django.db.models import F

from core.api.serializers import metadata_initial, metadata_merge
from merchants.models import Merchant
from payments.models import Customer
from payments.render import render_customer
from payments.selectors.customers import customer_get
from webhooks.services import event_create


def _emit(customer: Customer, type_: str, previous: dict | None = None) -> None:
    event_create(
        merchant=customer.merchant,
        livemode=customer.livemode,
        type=f"customer.{type_}",
        object_id=customer.public_id,
        object_version=customer.version,
        obj=render_customer(customer),
        previous_attributes=previous,
    )


class CustomerChanges(TypedDict, total=False):
    email: str
    name: str
    phone: str
    description: str
    metadata: dict | None  # merged; None (the client sent metadata=) clears it


def customer_create(
    *,
    merchant: Merchant,
    livemode: bool,
    email: str = "",
    name: str = "",
    phone: str = "",
    description: str = "",
    metadata: dict | None = None,
) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.create(
            merchant=merchant,
            livemode=livemode,
            email=email,
            name=name,
            phone=phone,
            description=description,
            metadata=metadata_initial(metadata),
        )
        _emit(customer, "created")
    return customer


def customer_update(
    *, merchant: Merchant, livemode: bool, public_id: str, changes: CustomerChanges
) -> Customer:
    """Apply `changes` under a row lock, so that concurrent metadata merges do not lose keys.

    Raises ResourceMissingError for a customer of another merchant or mode, or a deleted one.
    """
    with transaction.atomic():
        customer = customer_get(merchant=merchant, livemode=livemode, public_id=public_id)
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = render_customer(customer)
        for field in ("email", "name", "phone", "description"):
            if field in changes:
                setattr(customer, field, changes[field])
        if "metadata" in changes:
            customer.metadata = metadata_merge(customer.metadata, changes["metadata"])
        after = render_customer(customer)
        previous = {key: before[key] for key in after if after[key] != before[key]}
        if previous:
            customer.version += 1
            customer.save()
            _emit(customer, "updated", previous)
    return customer


def customer_delete(*, merchant: Merchant, livemode: bool, public_id: str) -> Customer:
    """Soft delete: the row stays (payments point at it), retrieve answers deleted=true.

    Deleting twice is a 404, as with Stripe. A conditional update, so two racing deletes
    cannot both succeed.
    """
    customer = customer_get(merchant=merchant, livemode=livemode, public_id=public_id)
    with transaction.atomic():
        deleted = Customer.objects.filter(pk=customer.pk, is_deleted=False).update(
            is_deleted=True, version=F("version") + 1
        )
        if not deleted:
            customer_get(merchant=merchant, livemode=livemode, public_id=public_id)  # 404
        customer.refresh_from_db()
        # The event shows the customer as it was, flagged deleted (the API's tombstone
        # has no fields left to show).
        customer.is_deleted = False
        last_state = {**render_customer(customer), "deleted": True}
        customer.is_deleted = True
        event_create(
            merchant=customer.merchant,
            livemode=customer.livemode,
            type="customer.deleted",
            object_id=customer.public_id,
            object_version=customer.version,
            obj=last_state,
        )
    return customer
