"""The package's logger: structlog events on the standard logger ``unified_health.analytics``.

They are silent until the host configures logging.

Every module logs through `logger` from here::

    from unified_health.analytics._logging import logger

    logger.warning("record_write_failed", key_count=3, error_class="TimeoutError")

Rules (see the development guide): events are snake_case verbs with ids and counts; never names,
e-mails, free text, tokens, exception messages or tracebacks, which may carry patient data. The
library never configures logging or structlog: a host that does not configure ``logging`` sees
nothing (a `logging.NullHandler` is attached), and one that does gets each event as a record on
this logger, formatted ``event key=value ...``, with the fields also on the record as
``uh_event`` and ``uh_fields`` for structured handlers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from unified_health.analytics._clock import Clock

__all__ = ["LOGGER_NAME", "DropLog", "logger"]

LOGGER_NAME = "unified_health.analytics"

_stdlib_logger = logging.getLogger(LOGGER_NAME)
_stdlib_logger.addHandler(logging.NullHandler())


def _render(value: object) -> str:
    text = str(value)
    return text if text and " " not in text and "=" not in text else repr(text)


def _to_stdlib(
    _logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> tuple[tuple[str], dict[str, Any]]:
    """Turn an event into the arguments of a `logging.Logger` call."""
    event = str(event_dict.pop("event", ""))
    fields: Mapping[str, Any] = dict(event_dict)
    message = " ".join([event, *(f"{key}={_render(value)}" for key, value in fields.items())])
    return (message,), {"extra": {"uh_event": event, "uh_fields": fields}, "stacklevel": 4}


logger: structlog.stdlib.BoundLogger = structlog.wrap_logger(
    _stdlib_logger,
    processors=[structlog.stdlib.filter_by_level, _to_stdlib],
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
"""The package's structured logger (a structlog `BoundLogger` over the standard logger)."""


class DropLog:
    """Logs a dropped event once per reason per ``interval`` seconds, with how many it skipped.

    Examples:
        >>> from unified_health.analytics.testing import FakeClock, capture_logs
        >>> drops = DropLog(FakeClock(), interval=60)
        >>> with capture_logs() as logs:
        ...     for _ in range(3):
        ...         drops.note("invalid_name", field="event")
        >>> [(e["event"], e["reason"], e["skipped"]) for e in logs]
        [('event_dropped', 'invalid_name', 0)]
    """

    def __init__(self, clock: Clock, *, interval: float = 60.0) -> None:
        self._clock = clock
        self._interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def note(self, reason: str, **fields: object) -> None:
        """Count a drop for ``reason``; log it unless one was logged within the interval."""
        now = self._clock.monotonic()
        with self._lock:
            last = self._last.get(reason)
            if last is not None and now - last < self._interval:
                self._skipped[reason] = self._skipped.get(reason, 0) + 1
                return
            self._last[reason] = now
            skipped = self._skipped.pop(reason, 0)
        logger.warning("event_dropped", reason=str(reason), skipped=skipped, **fields)
