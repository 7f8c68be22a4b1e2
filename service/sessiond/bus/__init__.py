"""Event bus interface; concrete transports are wired in server.py."""

from sessiond.bus.base import EventBus, Subscription, SubscriptionClosed, SubscriptionOverflow

__all__ = ["EventBus", "Subscription", "SubscriptionClosed", "SubscriptionOverflow"]
