"""Shared test harness for the Unified Health SDKs' own test suites.

Fixtures (registered through the ``pytest11`` entry point, so any test can ask for them):

- ``redis_url``: a real Redis server's URL (``REDIS_URL``, else 127.0.0.1:6379, else a
  ``redis-server`` started on a free port); skips without one unless ``UH_REQUIRE_REDIS=1``.
- ``redis_client``: a ``redis.Redis`` on that server; ``redis_prefix``: a key prefix private to
  the test, whose keys are deleted afterwards.
- ``redis_server_factory``: starts private ``redis-server`` processes that a test may stop and
  start again, for outage tests.
- ``postgres_url``, ``postgres_schema``, ``postgres_connection``: a real PostgreSQL server
  (``DATABASE_URL``, else 127.0.0.1:5432, database ``test``), a schema private to each test and
  dropped afterwards, and an autocommit connection whose ``search_path`` is that schema; skips
  without one unless ``UH_REQUIRE_POSTGRES=1``.
- ``loopback_server``: serves a WSGI app on 127.0.0.1 on a free port in a thread.

``vendor_spec("openfeature", "ofrep-openapi.yaml")`` returns a vendor's published file from
``$UH_VENDOR_SPECS`` or ``../shared/vendor-specs``; without it the test skips with the reason,
or fails under ``UH_REQUIRE_VENDOR_SPECS=1``.
"""

from uh_testkit._http import LoopbackServer
from uh_testkit._postgres import find_postgres_url
from uh_testkit._redis import RedisServerProcess, find_redis_url
from uh_testkit._specs import vendor_spec, vendor_specs_dir

__all__ = [
    "LoopbackServer",
    "RedisServerProcess",
    "find_postgres_url",
    "find_redis_url",
    "vendor_spec",
    "vendor_specs_dir",
]
