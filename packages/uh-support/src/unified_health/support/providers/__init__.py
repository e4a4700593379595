"""Vendor providers: the common ticket model over a help desk's API."""

from unified_health.support.providers._zendesk import (
    ZENDESK_PRIORITIES,
    ZENDESK_STATUSES,
    ZendeskProvider,
)

__all__ = ["ZENDESK_PRIORITIES", "ZENDESK_STATUSES", "ZendeskProvider"]
