"""`PublicStatusReader`: polls a public status page (``/api/v2/summary.json``) with ETags.

Works with any page that serves Statuspage's public documents: hosted Statuspage pages of the
services you depend on, and `SelfHostedStatusPage`. Each poll sends ``If-None-Match`` with the
last ETag; a ``304 Not Modified`` costs no parsing and returns the last summary unchanged.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import Field

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import InvalidInputError, ProviderError
from unified_health.status_page._logging import logger
from unified_health.status_page._models import VendorModel

__all__ = ["PublicStatus", "PublicStatusReader"]


class PublicStatus(VendorModel):
    """What a public page says: the overall indicator, each component and open incidents.

    Examples:
        >>> PublicStatus(indicator="none", description="All Systems Operational").indicator
        'none'
    """

    indicator: str
    description: str = ""
    components: dict[str, str] = Field(default_factory=dict)
    incidents: list[str] = Field(default_factory=list)
    fetched_at: datetime | None = None
    changed: bool = True


class PublicStatusReader:
    """Reads a public status page, politely (ETag / ``If-None-Match``).

    Args:
        url: The page's root, e.g. ``https://status.example.org``.
        http_client: Your ``httpx.Client`` (never closed by the reader).
        timeout: Seconds per request.
        clock: Stamps each summary.

    Raises:
        InvalidInputError: The URL is not http(s).

    Examples:
        >>> reader = PublicStatusReader("https://status.example.org")
        >>> reader.summary_url
        'https://status.example.org/api/v2/summary.json'
        >>> reader.close()
    """

    def __init__(
        self,
        url: str,
        *,
        http_client: httpx.Client | None = None,
        timeout: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        given: object = url
        if not isinstance(given, str) or not given.startswith(("http://", "https://")):
            raise InvalidInputError("url", "must be an http:// or https:// URL")
        self.summary_url = url.rstrip("/") + "/api/v2/summary.json"
        self._owns = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._timeout = timeout
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._etag: str | None = None
        self.last: PublicStatus | None = None

    def poll(self) -> PublicStatus:
        """Fetch the summary; on ``304`` return the last one with ``changed=False``.

        Raises:
            ProviderError: The page answered an error or could not be reached (``last`` still
                holds the last known summary).
        """
        headers = {"Accept": "application/json"}
        if self._etag is not None and self.last is not None:
            headers["If-None-Match"] = self._etag
        try:
            response = self._http.get(self.summary_url, headers=headers, timeout=self._timeout)
        except httpx.TransportError as exc:
            logger.warning("status_poll_failed", error_class=type(exc).__name__)
            raise ProviderError(f"status page did not answer ({type(exc).__name__})") from exc
        if response.status_code == 304 and self.last is not None:
            self.last = self.last.model_copy(update={"changed": False})
            return self.last
        if response.status_code != 200:
            raise ProviderError(
                f"status page answered {response.status_code}", status_code=response.status_code
            )
        try:
            document: Any = response.json()
            status = document["status"]
            summary = PublicStatus(
                indicator=str(status["indicator"]),
                description=str(status.get("description", "")),
                components={
                    str(c["name"]): str(c["status"])
                    for c in document.get("components", [])
                    if not c.get("group")
                },
                incidents=[str(i["name"]) for i in document.get("incidents", [])],
                fetched_at=self._clock.now(),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError("status page answered an unexpected document") from exc
        self._etag = response.headers.get("ETag")
        self.last = summary
        return summary

    def close(self) -> None:
        """Close the HTTP client if the reader made it."""
        if self._owns:
            self._http.close()

    def __enter__(self) -> PublicStatusReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
