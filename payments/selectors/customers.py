"""Customer reads, always scoped to one merchant and mode."""

from django.db.models import QuerySet

from core.errors import ResourceMissingError
from merchants.models import Merchant
from payments.models import Customer


def customer_get(
    *,
    merchant: Merchant,
    livemode: bool,
    public_id: str,
    include_deleted: bool = False,
    param: str = "id",
) -> Customer:
    """The merchant's customer in this mode, or ResourceMissingError (404) naming `param`.

    Another merchant's customer, or one of the other mode, is missing just the same.
    """
    customers = Customer.objects.filter(merchant=merchant, livemode=livemode)
    if not include_deleted:
        customers = customers.filter(is_deleted=False)
    customer = customers.filter(public_id=public_id).first()
    if customer is None:
        raise ResourceMissingError(f"No such customer: '{public_id}'", param=param)
    return customer


def customer_list(*, merchant: Merchant, livemode: bool, email: str | None = None) -> QuerySet:
    """Live (not deleted) customers, for core.api.pagination.paginate to order and slice."""
    customers = Customer.objects.filter(merchant=merchant, livemode=livemode, is_deleted=False)
    if email is not None:
        customers = customers.filter(email=email)
    return customers
