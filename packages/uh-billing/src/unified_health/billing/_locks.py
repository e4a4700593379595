"""Run locks: so two workers never reconcile the same period at once.

`RedisRunLock` (``SET NX PX`` and a compare-and-delete script) serves several machines;
`FileRunLock` (an exclusive ``flock`` on a file per run key) serves one machine.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from unified_health.billing._errors import InvalidInputError, StoreUnavailableError
from unified_health.billing._logging import logger
from unified_health.billing.stores._protocol import RedisClientProtocol
from unified_health.billing.stores._redis import DEFAULT_PREFIX, hash_tagged

__all__ = ["FileRunLock", "RedisRunLock", "RunLock"]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@runtime_checkable
class RunLock(Protocol):
    """A non-blocking lock per run key.

    Examples:
        >>> isinstance(FileRunLock(), RunLock)
        True
    """

    def acquire(self, key: str, *, ttl_seconds: float) -> str | None:
        """Take the lock; return a token, or ``None`` when another worker holds it."""
        ...

    def release(self, key: str, token: str) -> None:
        """Release the lock if ``token`` still holds it."""
        ...


class RedisRunLock:
    """A run lock on Redis, shared by every worker that uses the same server and prefix.

    The lock expires after ``ttl_seconds`` so a crashed worker cannot hold a period forever.

    Args:
        client: Your Redis client (never closed here).
        prefix: Key prefix, wrapped in a hash tag.

    Examples:
        >>> import redis
        >>> RedisRunLock(redis.Redis(), prefix="acme").key_for("daily:2026-11-24:UTC:live")
        '{acme}:v1:lock:daily:2026-11-24:UTC:live'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        given: object = client
        if isinstance(given, str | bytes) or not isinstance(given, RedisClientProtocol):
            raise InvalidInputError("client", "must be a Redis client")
        self._client = client
        self._prefix = hash_tagged(prefix)

    def key_for(self, key: str) -> str:
        """The Redis key of the lock for run ``key``."""
        return f"{self._prefix}:v1:lock:{key}"

    def _errors(self) -> tuple[type[BaseException], ...]:
        import redis

        return (redis.RedisError, OSError)

    def acquire(self, key: str, *, ttl_seconds: float) -> str | None:
        """Take the lock with ``SET NX PX``; ``None`` when it is held.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        token = secrets.token_hex(16)
        try:
            taken: Any = self._client.set(
                self.key_for(key), token, px=max(1, int(ttl_seconds * 1000)), nx=True
            )
        except self._errors() as exc:
            logger.warning("lock_call_failed", error_class=type(exc).__name__)
            raise StoreUnavailableError(f"redis lock failed ({type(exc).__name__})") from exc
        return token if taken else None

    def release(self, key: str, token: str) -> None:
        """Delete the lock if this token still holds it (never someone else's)."""
        try:
            self._client.eval(_RELEASE, 1, self.key_for(key), token)
        except self._errors() as exc:
            logger.warning("lock_release_failed", error_class=type(exc).__name__)


class FileRunLock:
    """A run lock for workers on one machine: an exclusive ``flock`` on a file per key.

    The operating system drops the lock when the process dies, so it needs no expiry.

    Args:
        directory: Where the lock files live (created if missing); a temp folder by default.

    Examples:
        >>> lock = FileRunLock()
        >>> token = lock.acquire("daily:2026-11-24:UTC:live", ttl_seconds=60)
        >>> (token is not None, lock.acquire("daily:2026-11-24:UTC:live", ttl_seconds=60))
        (True, None)
        >>> lock.release("daily:2026-11-24:UTC:live", token)
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        base = Path(tempfile.gettempdir()) / "uh-billing-locks" if directory is None else directory
        if not isinstance(base, str | Path):
            raise InvalidInputError("directory", "must be a str or pathlib.Path")
        self.directory = Path(base)
        self._held: dict[str, tuple[str, int]] = {}
        self._guard = threading.Lock()

    def acquire(self, key: str, *, ttl_seconds: float) -> str | None:
        """Take the lock without waiting; ``None`` when another process or thread holds it."""
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / (re.sub(r"[^A-Za-z0-9_.-]", "_", key) + ".lock")
        with self._guard:
            if key in self._held:
                return None
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(descriptor)
                return None
            token = secrets.token_hex(16)
            self._held[key] = (token, descriptor)
            return token

    def release(self, key: str, token: str) -> None:
        """Release the lock if ``token`` holds it."""
        import fcntl

        with self._guard:
            held = self._held.get(key)
            if held is None or held[0] != token:
                return
            del self._held[key]
            fcntl.flock(held[1], fcntl.LOCK_UN)
            os.close(held[1])
