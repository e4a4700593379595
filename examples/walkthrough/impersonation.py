"""uh-impersonation: a record written, updated and refused on a stale version, in memory."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.impersonation import ConflictError, InMemoryRecordStore


def run(say: Callable[[str], None]) -> None:
    """Show the package's record store at work."""
    store = InMemoryRecordStore()
    record = store.put("example-1", {"status": "open"}, expected_version=0)
    say(f"stored record {record.key} at version {record.version}")
    record = store.put("example-1", {"status": "closed"}, expected_version=record.version)
    say(f"updated it to version {record.version}: {record.data}")
    try:
        store.put("example-1", {"status": "open"}, expected_version=1)
    except ConflictError as exc:
        say(f"a stale write is refused: {exc}")
