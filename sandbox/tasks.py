"""The sandbox providers' own work: sending the callbacks they owe the gateway."""

from celery import shared_task

from sandbox.callbacks import callback_send, callbacks_send_due


@shared_task(name="sandbox.send_callback", ignore_result=True)
def send_callback(callback_id: int) -> str:
    return callback_send(callback_id=callback_id)


@shared_task(name="sandbox.send_due_callbacks", ignore_result=True)
def send_due_callbacks() -> int:
    """Beat: late callbacks whose time has come, and retries of unanswered ones."""
    return callbacks_send_due()
