"""POST /hooks/<connector>/: processor callbacks (see webhooks.services.inbound)."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from webhooks.services.inbound import callback_secret, inbound_callback_receive


@csrf_exempt
@require_POST
def inbound_callback(request, connector: str):
    if callback_secret(connector) is None:
        return JsonResponse({"error": {"message": f"Unknown connector: {connector}"}}, status=404)
    callback = inbound_callback_receive(
        connector=connector, headers=dict(request.headers), body=request.body
    )
    if not callback.signature_valid:
        return JsonResponse({"error": {"message": "Invalid signature."}}, status=400)
    return JsonResponse({"received": True, "duplicate": callback.is_duplicate})
