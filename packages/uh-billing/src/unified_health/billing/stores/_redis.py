"""The Redis `ReconciliationStore`.

Keys (the prefix is wrapped in a hash tag, so every key of the store sits in one cluster slot)::

    {uh:billing}:v1:runs       HASH  run key -> run record JSON
    {uh:billing}:v1:reports    HASH  run key -> report JSON

Every change is a compare-and-set Lua script over both hashes: it writes only if the run record is
still the one the change was computed from (else the change is recomputed), so concurrent writers
never lose an attempt or overwrite a succeeded run, on a standalone server and on Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from types import TracebackType

from unified_health.billing._errors import (
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
)
from unified_health.billing._logging import logger
from unified_health.billing._models import RunRecord, TrendPoint
from unified_health.billing._report import Report
from unified_health.billing.stores._common import (
    check_at,
    check_key,
    check_limit,
    check_report,
    newest_first,
    not_found,
    trend_points,
)
from unified_health.billing.stores._protocol import RedisClientProtocol

__all__ = ["DEFAULT_PREFIX", "RedisReconciliationStore", "hash_tagged"]

DEFAULT_PREFIX = "uh:billing"

# KEYS: runs hash, reports hash. ARGV: run key, expected current JSON ('' = absent), new JSON,
# report JSON ('' = none). Returns 1 when written, 0 when the record changed meanwhile.
_CAS = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[4]) end
return 1
"""
_ATTEMPTS = 50


def hash_tagged(prefix: str) -> str:
    """Wrap ``prefix`` in a Redis Cluster hash tag unless it already holds one.

    Args:
        prefix: The configured key prefix.

    Returns:
        The prefix every key starts with.

    Raises:
        InvalidInputError: The prefix is empty or not a str.

    Examples:
        >>> hash_tagged("myapp:billing")
        '{myapp:billing}'
        >>> hash_tagged("{tenant-7}:billing")
        '{tenant-7}:billing'
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


class RedisReconciliationStore:
    """A `ReconciliationStore` on Redis, standalone or cluster.

    Args:
        client: Your Redis client (``redis.Redis(decode_responses=False)`` or compatible). The
            store never closes a client it was given.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client (for a URL, use `from_url`).

    Examples:
        >>> import redis
        >>> store = RedisReconciliationStore(redis.Redis(), prefix="myapp:billing")
        >>> store.runs_key
        '{myapp:billing}:v1:runs'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
            raise InvalidInputError(
                "client",
                "must be a Redis client; for a URL use RedisReconciliationStore.from_url(url)",
            )
        self._client = client
        self._owns_client = False
        tagged = hash_tagged(prefix)
        self.runs_key = f"{tagged}:v1:runs"
        self.reports_key = f"{tagged}:v1:reports"
        self._errors = _driver_errors()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> RedisReconciliationStore:
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
            >>> store = RedisReconciliationStore.from_url("redis://127.0.0.1:6379/0")
            >>> store.reports_key
            '{uh:billing}:v1:reports'
            >>> store.close()
        """
        try:
            import redis
        except ImportError:
            raise ImportError(
                "RedisReconciliationStore.from_url needs the redis extra: "
                "pip install 'uh-billing[redis]'"
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

    def _read(self, key: str, run_key: str) -> str | None:
        try:
            stored = self._client.hget(key, run_key)
        except self._errors as exc:
            raise self._unavailable("read", exc) from exc
        if stored is None:
            return None
        return stored.decode() if isinstance(stored, bytes) else str(stored)

    def _change(
        self,
        run_key: str,
        compute: Callable[[RunRecord | None], RunRecord],
        report: str = "",
    ) -> RunRecord:
        for _ in range(_ATTEMPTS):
            raw = self._read(self.runs_key, run_key)
            record = compute(None if raw is None else RunRecord.from_json(raw))
            try:
                written = self._client.eval(
                    _CAS,
                    2,
                    self.runs_key,
                    self.reports_key,
                    run_key,
                    raw or "",
                    record.to_json(),
                    report,
                )
            except self._errors as exc:
                raise self._unavailable("write", exc) from exc
            if int(written) == 1:
                return record
        raise ConflictError(f"run {run_key!r} kept changing; try again")

    def start_run(self, run_key: str, *, period: str, at: datetime) -> RunRecord:
        """Start the run, or a new attempt of a running or failed one (atomic).

        Raises:
            ConflictError: The run already succeeded.
            StoreUnavailableError: Redis did not answer.
        """
        check_key(run_key)
        check_at(at)

        def compute(current: RunRecord | None) -> RunRecord:
            if current is not None and current.status == "succeeded":
                raise ConflictError(f"run {run_key!r} already succeeded")
            attempts = 1 if current is None else current.attempts + 1
            return RunRecord(
                run_key=run_key, period=period, status="running", attempts=attempts, started_at=at
            )

        return self._change(run_key, compute)

    def finish_run(self, run_key: str, report: Report, *, at: datetime) -> RunRecord:
        """Store the report and mark the run succeeded, in one atomic write.

        Raises:
            NotFoundError: No such run.
            StoreUnavailableError: Redis did not answer.
        """
        check_key(run_key)
        check_at(at)
        check_report(run_key, report)

        def compute(current: RunRecord | None) -> RunRecord:
            if current is None:
                raise not_found(run_key)
            return RunRecord(
                **{
                    **current.model_dump(),
                    "status": "succeeded",
                    "finished_at": at,
                    "open_discrepancies": report.open_discrepancies,
                    "critical": report.critical,
                    "error_class": None,
                }
            )

        return self._change(run_key, compute, report.to_json())

    def fail_run(self, run_key: str, *, error_class: str, at: datetime) -> RunRecord:
        """Mark the run failed.

        Raises:
            NotFoundError: No such run.
            StoreUnavailableError: Redis did not answer.
        """
        check_key(run_key)
        check_at(at)

        def compute(current: RunRecord | None) -> RunRecord:
            if current is None:
                raise not_found(run_key)
            return RunRecord(
                **{
                    **current.model_dump(),
                    "status": "failed",
                    "finished_at": at,
                    "error_class": str(error_class)[:200],
                }
            )

        return self._change(run_key, compute)

    def get_run(self, run_key: str) -> RunRecord:
        """Return the run record.

        Raises:
            NotFoundError: No such run.
            StoreUnavailableError: Redis did not answer.
        """
        raw = self._read(self.runs_key, check_key(run_key))
        if raw is None:
            raise not_found(run_key)
        return RunRecord.from_json(raw)

    def run_exists(self, run_key: str) -> bool:
        """Return whether the run record exists."""
        return self._read(self.runs_key, check_key(run_key)) is not None

    def get_report(self, run_key: str) -> Report:
        """Return the report of a succeeded run.

        Raises:
            NotFoundError: No such run, or no report yet.
            StoreUnavailableError: Redis did not answer.
        """
        raw = self._read(self.reports_key, check_key(run_key))
        if raw is None:
            raise not_found(run_key)
        return Report.from_json(raw)

    def _all(self) -> list[RunRecord]:
        cursor = 0
        records: dict[str, RunRecord] = {}
        while True:
            try:
                cursor, page = self._client.hscan(self.runs_key, cursor, count=500)
            except self._errors as exc:
                raise self._unavailable("list", exc) from exc
            for raw_key, stored in page.items():
                key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
                records[key] = RunRecord.from_json(stored)
            if int(cursor) == 0:
                return list(records.values())

    def list_runs(self) -> Iterator[RunRecord]:
        """Yield every run record, newest period first (read with ``HSCAN``).

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        return iter(newest_first(self._all()))

    def trend(self, kind: str = "daily", *, limit: int = 30) -> list[TrendPoint]:
        """Open discrepancies of the last ``limit`` succeeded runs of ``kind``, oldest first."""
        check_limit(limit)
        return trend_points(self._all(), kind, limit)

    def close(self) -> None:
        """Close the client if the store created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RedisReconciliationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
