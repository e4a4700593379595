"""The Redis `TicketStore`: atomic Lua scripts over hashes and a sorted set under one hash tag.

Keys (all inside one hash tag, so every script stays in one cluster slot):
``{prefix}:v1:tickets`` (hash id -> JSON), ``{prefix}:v1:versions`` (hash id -> version),
``{prefix}:v1:keys`` (hash idempotency key -> fingerprint|id), ``{prefix}:v1:due`` (sorted set
id -> SLA due epoch seconds) and ``{prefix}:v1:claims`` (hash of escalations already fired).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import TracebackType

from unified_health.support._calendar import to_epoch
from unified_health.support._errors import InvalidInputError, StoreUnavailableError
from unified_health.support._logging import logger
from unified_health.support._models import Ticket
from unified_health.support.stores._common import (
    check_create,
    check_id,
    check_update,
    due_score,
    key_conflict,
    stale,
)
from unified_health.support.stores._protocol import RedisClientProtocol

__all__ = ["DEFAULT_PREFIX", "RedisTicketStore", "hash_tagged"]

DEFAULT_PREFIX = "uh:support"

_CREATE = """
local found = redis.call('HGET', KEYS[2], ARGV[1])
if found then
  local sep = string.find(found, '|', 1, true)
  local id = string.sub(found, sep + 1)
  if string.sub(found, 1, sep - 1) ~= ARGV[2] then return {-1, id} end
  return {0, id}
end
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then return {-2, ARGV[3]} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], 1)
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[3]) end
return {1, ARGV[3]}
"""

_UPDATE = """
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then return {-1, current} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], current + 1)
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
return {1, current + 1}
"""


def hash_tagged(prefix: str) -> str:
    """Wrap ``prefix`` in a Redis Cluster hash tag unless it already holds one.

    Args:
        prefix: The configured key prefix.

    Returns:
        The prefix every key starts with.

    Raises:
        InvalidInputError: The prefix is empty or not a str.

    Examples:
        >>> hash_tagged("myapp:support")
        '{myapp:support}'
        >>> hash_tagged("{tenant-7}:support")
        '{tenant-7}:support'
    """
    given: object = prefix
    if not isinstance(given, str) or not given.strip():
        raise InvalidInputError("prefix", "must be a non-empty str")
    opening = prefix.find("{")
    if opening >= 0 and prefix.find("}", opening) > opening + 1:
        return prefix
    return "{" + prefix + "}"


def _driver_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis
    except ImportError:  # pragma: no cover - only without the redis extra
        return (OSError,)
    return (redis.RedisError, OSError)


class RedisTicketStore:
    """A `TicketStore` on Redis, standalone or cluster.

    Args:
        client: Your Redis client (``redis.Redis()`` or compatible). The store never closes a
            client it was given.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client (for a URL, use `from_url`).

    Examples:
        >>> import redis
        >>> store = RedisTicketStore(redis.Redis(), prefix="myapp:support")
        >>> store.tickets_key
        '{myapp:support}:v1:tickets'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
            raise InvalidInputError(
                "client", "must be a Redis client; for a URL use RedisTicketStore.from_url(url)"
            )
        self._client = client
        self._owns_client = False
        base = f"{hash_tagged(prefix)}:v1"
        self.tickets_key = f"{base}:tickets"
        self._versions_key = f"{base}:versions"
        self._keys_key = f"{base}:keys"
        self._due_key = f"{base}:due"
        self._claims_key = f"{base}:claims"
        self._errors = _driver_errors()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> RedisTicketStore:
        """Create a store on a new client that it owns and closes in `close`.

        No connection is made until the first call, so this never blocks on a dead server;
        the first call to one fails within ``socket_connect_timeout``.

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            prefix: Key prefix.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.

        Returns:
            The store.

        Raises:
            InvalidInputError: The URL or a timeout is invalid.

        Examples:
            >>> store = RedisTicketStore.from_url("redis://127.0.0.1:6379/0")
            >>> store.tickets_key
            '{uh:support}:v1:tickets'
            >>> store.close()
        """
        try:
            import redis
        except ImportError:
            raise ImportError(
                "RedisTicketStore.from_url needs the redis extra: pip install 'uh-support[redis]'"
            ) from None

        given: object = url
        if not isinstance(given, str):
            raise InvalidInputError("url", "must be a str")
        timeouts: tuple[tuple[str, object], ...] = (
            ("socket_timeout", socket_timeout),
            ("socket_connect_timeout", socket_connect_timeout),
        )
        for name, value in timeouts:
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InvalidInputError(name, "must be a number of seconds > 0")
        try:
            client = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_connect_timeout
            )
        except ValueError:
            raise InvalidInputError("url", "must be a redis://, rediss:// or unix:// URL") from None
        store = cls(client, prefix=prefix)
        store._owns_client = True
        return store

    def _unavailable(self, operation: str, exc: BaseException) -> StoreUnavailableError:
        logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
        return StoreUnavailableError(f"redis {operation} failed ({type(exc).__name__})")

    def _load(self, ticket_id: str) -> Ticket | None:
        try:
            stored = self._client.hget(self.tickets_key, ticket_id)
        except self._errors as exc:
            raise self._unavailable("get", exc) from exc
        return None if stored is None else Ticket.from_json(stored)

    def create(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Store ``ticket`` once per key, atomically (see `TicketStore`).

        Raises:
            ConflictError: The key was used with another fingerprint, or the id exists.
            StoreUnavailableError: Redis did not answer.
        """
        ticket = check_create(ticket, idempotency_key, fingerprint)
        score = due_score(ticket)
        keys = (self.tickets_key, self._keys_key, self._versions_key, self._due_key)
        try:
            status, stored_id = self._client.eval(
                _CREATE,
                len(keys),
                *keys,
                idempotency_key,
                fingerprint,
                ticket.id,
                ticket.to_json(),
                "" if score is None else score,
            )
        except self._errors as exc:
            raise self._unavailable("create", exc) from exc
        if status == -1:
            raise key_conflict(idempotency_key)
        if status == -2:
            raise stale(ticket.id, 0, 1)
        if status == 1:
            return ticket, True
        found_id = stored_id.decode() if isinstance(stored_id, bytes) else str(stored_id)
        found = self._load(found_id)
        if found is None:  # pragma: no cover - the script writes both or neither
            raise StoreUnavailableError("redis lost a ticket between two calls")
        return found, False

    def get(self, ticket_id: str) -> Ticket | None:
        """Return the ticket, or ``None``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        return self._load(check_id(ticket_id, "ticket_id"))

    def update(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Replace the ticket if it is at ``expected_version`` (atomic).

        Raises:
            ConflictError: The stored version differs (or the ticket does not exist).
            StoreUnavailableError: Redis did not answer.
        """
        updated, expected = check_update(ticket, expected_version)
        score = due_score(updated)
        keys = (self.tickets_key, self._versions_key, self._due_key)
        try:
            status, current = self._client.eval(
                _UPDATE,
                len(keys),
                *keys,
                updated.id,
                expected,
                updated.to_json(),
                "" if score is None else score,
            )
        except self._errors as exc:
            raise self._unavailable("update", exc) from exc
        if status == -1:
            raise stale(updated.id, expected, int(current))
        return updated

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield every ticket once, paging through Redis with ``HSCAN``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        cursor = 0
        seen: set[str] = set()
        while True:
            try:
                cursor, page = self._client.hscan(self.tickets_key, cursor, count=500)
            except self._errors as exc:
                raise self._unavailable("list", exc) from exc
            for raw_id, stored in page.items():
                ticket_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                if ticket_id in seen:  # HSCAN may repeat a field while the hash is rehashed
                    continue
                seen.add(ticket_id)
                yield Ticket.from_json(stored)
            if int(cursor) == 0:
                return

    def due_before(self, instant: datetime) -> list[str]:
        """Return ids whose SLA due time is at or before ``instant``, earliest first.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        limit = to_epoch(instant, "instant")
        try:
            found = self._client.zrangebyscore(self._due_key, "-inf", limit)
        except self._errors as exc:
            raise self._unavailable("due_before", exc) from exc
        return [item.decode() if isinstance(item, bytes) else str(item) for item in found]

    def claim_once(self, ticket_id: str, marker: str) -> bool:
        """Return ``True`` the first time ``(ticket_id, marker)`` is claimed (``HSETNX``).

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        field = f"{check_id(ticket_id, 'ticket_id')}|{check_id(marker, 'marker')}"
        try:
            return bool(self._client.hsetnx(self._claims_key, field, 1))
        except self._errors as exc:
            raise self._unavailable("claim", exc) from exc

    def close(self) -> None:
        """Close the client if the store created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RedisTicketStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
