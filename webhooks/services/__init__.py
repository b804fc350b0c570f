"""Writes of the webhooks app. `event_create` is the outbox every state change calls."""

from webhooks.services.events import event_create

__all__ = ["event_create"]
