"""Vendor providers: the common ticket model over a help desk's API."""

from unified_health.support.providers._intercom import (
    INTERCOM_HOSTS,
    INTERCOM_STATES,
    IntercomProvider,
)
from unified_health.support.providers._zendesk import (
    ZENDESK_PRIORITIES,
    ZENDESK_STATUSES,
    ZendeskProvider,
)

__all__ = [
    "INTERCOM_HOSTS",
    "INTERCOM_STATES",
    "ZENDESK_PRIORITIES",
    "ZENDESK_STATUSES",
    "IntercomProvider",
    "ZendeskProvider",
]
