"""The storage Protocols of uh-analytics and the Redis commands the Redis stores use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ConsentStore",
    "ForkAware",
    "InProcessStore",
    "JournalingSpillStore",
    "RedisClientProtocol",
    "SpillStore",
    "SurrogateIdStore",
]


@runtime_checkable
class ConsentStore(Protocol):
    """Per-user consent: which categories each user agreed to.

    A user with no record falls back to the client's ``default_consent``.

    Examples:
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> isinstance(InMemoryConsentStore(), ConsentStore)
        True
    """

    def get_consent(self, user_id: str) -> frozenset[str] | None:
        """Return the user's categories, or ``None`` when the user has no record."""
        ...

    def get_consents(self, user_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Return the records of the users that have one (others are left out)."""
        ...

    def set_consent(self, user_id: str, categories: Iterable[str]) -> None:
        """Replace the user's categories."""
        ...

    def delete_consent(self, user_id: str) -> None:
        """Forget the user's record (they fall back to the default). Idempotent."""
        ...


@runtime_checkable
class InProcessStore(Protocol):
    """A store that answers from this process's memory, without I/O.

    A `ConsentStore` declaring ``in_process = True`` is read by `track()` itself, so an event
    without consent is refused at once; any other consent store is read by the delivery
    threads only (consent is then checked right before each delivery attempt).

    Examples:
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> isinstance(InMemoryConsentStore(), InProcessStore), InMemoryConsentStore.in_process
        (True, True)
    """

    in_process: bool


@runtime_checkable
class ForkAware(Protocol):
    """A part holding locks or connections that must be renewed in a forked child.

    The client calls `reset_after_fork` on its pseudonymiser and stores that declare it.

    Examples:
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> isinstance(InMemoryConsentStore(), ForkAware)
        True
    """

    def reset_after_fork(self) -> None:
        """Renew locks (and connections) in a forked child."""
        ...


@runtime_checkable
class SurrogateIdStore(Protocol):
    """A mapping from raw ids to random surrogate ids, created once and then stable.

    Examples:
        >>> from unified_health.analytics.stores import InMemorySurrogateIdStore
        >>> store = InMemorySurrogateIdStore()
        >>> store.get_or_create("user", "u-1", "s_1") == store.get_or_create("user", "u-1", "s_2")
        True
    """

    def get_or_create(self, kind: str, raw_id: str, candidate: str) -> str:
        """Return the surrogate of ``raw_id``; store ``candidate`` first if there is none."""
        ...

    def get(self, kind: str, raw_id: str) -> str | None:
        """Return the surrogate of ``raw_id`` if it has one, creating nothing."""
        ...


@runtime_checkable
class SpillStore(Protocol):
    """Durable overflow for events a process could not deliver (at-least-once across restarts).

    Examples:
        >>> from unified_health.analytics.stores import InMemorySpillStore
        >>> spill = InMemorySpillStore()
        >>> spill.push("posthog", [b"{}"])
        >>> spill.pop("posthog", 10)
        [b'{}']
    """

    def push(self, lane: str, items: Sequence[bytes]) -> None:
        """Append serialised events to a provider's lane."""
        ...

    def pop(self, lane: str, count: int) -> list[bytes]:
        """Remove and return up to ``count`` events, oldest first."""
        ...

    def size(self, lane: str) -> int:
        """Return how many events wait in the lane."""
        ...

    def remove_if(self, lane: str, predicate: Callable[[bytes], bool]) -> int:
        """Remove every event of the lane for which ``predicate`` is true; return how many.

        Used when a user withdraws consent. Must be safe against `push` and `pop` from other
        processes: an event is either removed or left, never lost or duplicated.
        """
        ...


@runtime_checkable
class JournalingSpillStore(SpillStore, Protocol):
    """A spill store that also keeps each process's journal of accepted events (durable mode).

    A process appends every event it accepts to its own journal and trims what it has settled;
    its lease is renewed with every append. When a process dies without a clean shutdown, its
    lease runs out and `adopt` moves its journal into the lane, where any process replays it.

    Examples:
        >>> from unified_health.analytics.stores import RedisSpillStore
        >>> import redis
        >>> isinstance(RedisSpillStore(redis.Redis()), JournalingSpillStore)
        True
    """

    def journal(self, lane: str, owner: str, items: Sequence[bytes], trim: int) -> None:
        """Append ``items`` to ``owner``'s journal, drop its ``trim`` oldest, renew its lease."""
        ...

    def adopt(self, lane: str) -> int:
        """Move the journals of owners whose lease ran out into the lane; return how many."""
        ...

    def close_journal(self, lane: str, owner: str) -> None:
        """Forget ``owner``'s journal and lease (its events are all settled)."""
        ...


@runtime_checkable
class RedisClientProtocol(Protocol):
    """The Redis commands the Redis stores use; ``redis.Redis`` satisfies it.

    So does any compatible client: pass yours to a store instead of a URL.

    Examples:
        >>> import redis
        >>> isinstance(redis.Redis(), RedisClientProtocol)
        True
    """

    def get(self, name: str) -> Any:
        """GET."""
        ...

    def mget(self, keys: Sequence[str], *args: str) -> Any:
        """MGET."""
        ...

    def set(self, name: str, value: Any, *, nx: bool = ...) -> Any:
        """SET (``nx`` for create-only)."""
        ...

    def delete(self, *names: str) -> Any:
        """DEL."""
        ...

    def rpush(self, name: str, *values: Any) -> Any:
        """RPUSH."""
        ...

    def lpop(self, name: str, count: int | None = ...) -> Any:
        """LPOP with a count."""
        ...

    def llen(self, name: str) -> Any:
        """LLEN."""
        ...

    def lrange(self, name: str, start: int, end: int) -> Any:
        """LRANGE."""
        ...

    def pipeline(self, transaction: bool = ...) -> Any:
        """A pipeline (commands sent in one round trip)."""
        ...

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:
        """EVAL (the spill store's journal runs as Lua scripts)."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...


def decode(value: Any) -> str:
    """Turn a Redis reply (bytes or str) into ``str``."""
    return value.decode() if isinstance(value, bytes) else str(value)


def consent_record(categories: Iterable[str]) -> Mapping[str, Any]:
    """The stored shape of a consent record (versioned for future migrations)."""
    return {"v": 1, "categories": sorted(set(categories))}
