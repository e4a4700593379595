"""The in-memory `RecordStore`: the embedded default, thread-safe, for one process."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from unified_health.impersonation._models import Record
from unified_health.impersonation.stores._codec import (
    check_expected_version,
    check_key,
    conflict,
    decode,
    encode_data,
)

__all__ = ["InMemoryRecordStore"]


class InMemoryRecordStore:
    """A `RecordStore` in a dict; records are stored as JSON, so callers never share objects.

    Examples:
        >>> store = InMemoryRecordStore()
        >>> store.put("r-1", {"status": "open"}, expected_version=0).version
        1
        >>> store.put("r-1", {"status": "closed"}, expected_version=1).data
        {'status': 'closed'}
        >>> store.get("missing") is None
        True
    """

    def __init__(self) -> None:
        self._records: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Record | None:
        """Return the record under ``key``, or ``None``."""
        found = self._records.get(check_key(key))
        return None if found is None else decode(key, *found)

    def put(
        self, key: str, data: Mapping[str, Any], *, expected_version: int | None = None
    ) -> Record:
        """Write ``data`` under ``key`` if the version check passes.

        Raises:
            ConflictError: ``expected_version`` is not the current version (0: the key exists).
            InvalidInputError: The key, the data or ``expected_version`` broke a rule.
        """
        check_key(key)
        expected = check_expected_version(expected_version)
        payload = encode_data(data)
        with self._lock:
            current = self._records.get(key, (0, ""))[0]
            if expected is not None and expected != current:
                raise conflict(key, expected, current)
            self._records[key] = (current + 1, payload)
        return decode(key, current + 1, payload)

    def delete(self, key: str, *, expected_version: int | None = None) -> bool:
        """Delete ``key``; ``True`` if it existed. Idempotent.

        Raises:
            ConflictError: ``expected_version`` is not the current version.
        """
        check_key(key)
        expected = check_expected_version(expected_version)
        with self._lock:
            current = self._records.get(key, (0, ""))[0]
            if expected is not None and expected != current:
                raise conflict(key, expected, current)
            return self._records.pop(key, None) is not None

    def list_records(self) -> Iterator[Record]:
        """Yield every record once (a snapshot taken when iteration starts)."""
        snapshot = dict(self._records)
        for key, (version, payload) in snapshot.items():
            yield decode(key, version, payload)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> InMemoryRecordStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
