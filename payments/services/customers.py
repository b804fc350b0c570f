"""Customer writes. Scoped by merchant and mode; a deleted customer stays as a tombstone."""

from typing import TypedDict

from django.db import transaction

from core.api.serializers import metadata_initial, metadata_merge
from merchants.models import Merchant
from payments.models import Customer
from payments.selectors.customers import customer_get


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
    return Customer.objects.create(
        merchant=merchant,
        livemode=livemode,
        email=email,
        name=name,
        phone=phone,
        description=description,
        metadata=metadata_initial(metadata),
    )


def customer_update(
    *, merchant: Merchant, livemode: bool, public_id: str, changes: CustomerChanges
) -> Customer:
    """Apply `changes` under a row lock, so that concurrent metadata merges do not lose keys.

    Raises ResourceMissingError for a customer of another merchant or mode, or a deleted one.
    """
    with transaction.atomic():
        customer = customer_get(merchant=merchant, livemode=livemode, public_id=public_id)
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        fields = ["updated_at"]
        for field in ("email", "name", "phone", "description"):
            if field in changes:
                setattr(customer, field, changes[field])
                fields.append(field)
        if "metadata" in changes:
            customer.metadata = metadata_merge(customer.metadata, changes["metadata"])
            fields.append("metadata")
        customer.save(update_fields=fields)
    return customer


def customer_delete(*, merchant: Merchant, livemode: bool, public_id: str) -> Customer:
    """Soft delete: the row stays (payments point at it), retrieve answers deleted=true.

    Deleting twice is a 404, as with Stripe. A conditional update, so two racing deletes
    cannot both succeed.
    """
    customer = customer_get(merchant=merchant, livemode=livemode, public_id=public_id)
    deleted = Customer.objects.filter(pk=customer.pk, is_deleted=False).update(is_deleted=True)
    if not deleted:
        customer_get(merchant=merchant, livemode=livemode, public_id=public_id)  # raises 404
    customer.is_deleted = True
    return customer
