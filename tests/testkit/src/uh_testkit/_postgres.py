"""Finding a real PostgreSQL server for tests; never a mock."""

from __future__ import annotations

import os

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def require_postgres() -> bool:
    """Whether a missing PostgreSQL must fail the test run (``UH_REQUIRE_POSTGRES=1``, as in CI)."""
    return os.environ.get("UH_REQUIRE_POSTGRES", "") not in ("", "0")


def find_postgres_url() -> tuple[str | None, str]:
    """``DATABASE_URL`` if set, else the local server; ``(None, reason)`` when none answers."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed (pip install 'psycopg[binary]')"
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return None, f"no PostgreSQL answers at {url.split('@')[-1]} ({type(exc).__name__})"
    return url, ""
