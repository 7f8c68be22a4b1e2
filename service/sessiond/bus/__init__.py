"""Event bus interface; concrete transports are wired in server.py."""

from sessiond.bus.base import EventBus, Subscription, SubscriptionOverflow

__all__ = ["EventBus", "Subscription", "SubscriptionOverflow"]
