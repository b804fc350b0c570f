"""Writes of the webhooks app. `event_create` is the outbox every state change calls;
`events_create` records several events of one change at once."""

from webhooks.services.events import EventSpec, event_create, events_create

__all__ = ["EventSpec", "event_create", "events_create"]
