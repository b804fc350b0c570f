"""/v1/customers: create, retrieve, update, list, delete (Stripe's customer object)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import IDEMPOTENCY_KEY, error_responses, query_parameters
from core.api.serializers import validate
from core.api.views import StripeAPIView
from payments.api.serializers.customers import (
    CustomerCreateSerializer,
    CustomerListResponseSerializer,
    CustomerListSerializer,
    CustomerRetrieveSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
    DeletedCustomerSerializer,
)
from payments.api.serializers.schema import CustomerOrDeletedSerializer
from payments.render import render_customer
from payments.selectors.customers import customer_get, customer_list
from payments.services.customers import customer_create, customer_delete, customer_update

_ID = OpenApiParameter("customer_id", str, OpenApiParameter.PATH, description="cus_...")


class CustomerListCreateView(StripeAPIView):
    @extend_schema(
        operation_id="PostCustomers",
        summary="Create a customer",
        parameters=[IDEMPOTENCY_KEY],
        request=CustomerCreateSerializer,
        responses={200: CustomerSerializer, **error_responses(403, 409)},
    )
    def post(self, request):
        data = validate(CustomerCreateSerializer, request.params)
        data.pop("expand", None)  # a customer has nothing to expand
        customer = customer_create(merchant=request.merchant, livemode=request.livemode, **data)
        return Response(render_customer(customer))

    @extend_schema(
        operation_id="GetCustomers",
        summary="List customers",
        description="Customers of this mode that are not deleted, newest first, optionally "
        "with one email address.",
        parameters=query_parameters(CustomerListSerializer),
        responses={200: CustomerListResponseSerializer, **error_responses(403)},
    )
    def get(self, request):
        data = validate(CustomerListSerializer, request.params)
        customers = customer_list(
            merchant=request.merchant, livemode=request.livemode, email=data.get("email")
        )
        return Response(paginate(request, customers, render_customer, url="/v1/customers"))


class CustomerDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomersCustomer",
        summary="Retrieve a customer",
        description='A deleted customer answers {"id", "object": "customer", "deleted": true}.',
        parameters=[_ID],
        responses={200: CustomerOrDeletedSerializer, **error_responses(403, 404)},
    )
    def get(self, request, customer_id: str):
        validate(CustomerRetrieveSerializer, request.params)
        customer = customer_get(
            merchant=request.merchant,
            livemode=request.livemode,
            public_id=customer_id,
            include_deleted=True,
        )
        return Response(render_customer(customer))

    @extend_schema(
        operation_id="PostCustomersCustomer",
        summary="Update a customer",
        description="An empty value unsets a field; metadata keys merge (an empty value "
        "unsets a key).",
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, customer_id: str):
        data = validate(CustomerUpdateSerializer, request.params)
        data.pop("expand", None)  # a customer has nothing to expand
        customer = customer_update(
            merchant=request.merchant,
            livemode=request.livemode,
            public_id=customer_id,
            changes=data,
        )
        return Response(render_customer(customer))

    @extend_schema(
        operation_id="DeleteCustomersCustomer",
        summary="Delete a customer",
        parameters=[_ID],
        responses={200: DeletedCustomerSerializer, **error_responses(403, 404)},
    )
    def delete(self, request, customer_id: str):
        validate(CustomerRetrieveSerializer, request.params)
        customer = customer_delete(
            merchant=request.merchant, livemode=request.livemode, public_id=customer_id
        )
        return Response(render_customer(customer))
