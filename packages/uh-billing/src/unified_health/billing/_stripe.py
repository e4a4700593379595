"""Fetching Stripe's records: time-sharded, rate-limited, resumable, mode-guarded.

`StripeSource` reads charges, refunds and disputes for a time range with the official ``stripe``
SDK's raw request path (plain JSON, no typed objects), over httpx. The range is cut into time
shards paginated in parallel (``created[gte]``/``created[lt]`` with ``starting_after`` cursors)
under one rate limiter shared by every shard; a 429 pauses all shards for its ``Retry-After``.
With ``checkpoint_dir`` every finished page is appended to a file per shard, so a run that crashed
resumes where it stopped instead of starting over.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path
from typing import Any

import stripe

from unified_health.billing._clock import Clock, SystemClock
from unified_health.billing._errors import InvalidInputError, ProviderError, RateLimitedError
from unified_health.billing._logging import logger
from unified_health.billing._records import StripeRecord

__all__ = ["RESOURCES", "RateLimiter", "StripeSource", "stripe_record"]

RESOURCES = ("charges", "refunds", "disputes")
"""The Stripe lists a business reconciliation reads."""

_KEY = re.compile(r"^(sk|rk)_(live|test)_[A-Za-z0-9_]{1,250}$")
_REFUND_STATUS = {"requires_action": "pending"}


def _mode_of(api_key: str) -> bool:
    found = _KEY.match(api_key)
    if found is None:
        raise InvalidInputError("api_key", "must be a Stripe secret or restricted key (sk_/rk_)")
    return found.group(2) == "live"


def stripe_record(
    obj: Mapping[str, Any],
    *,
    metadata_key: str = "order_id",
    livemode: bool = False,
    payout: str | None = None,
) -> StripeRecord:
    """Reduce a Stripe charge, refund or dispute (decoded JSON) to a `StripeRecord`.

    An uncaptured charge is ``pending`` (no money moved yet); a partially captured one keeps
    ``amount_captured``; dispute statuses other than ``won``/``lost`` are ``open``.

    Args:
        obj: The API object.
        metadata_key: The metadata key holding the host's reference.
        livemode: The mode of the key that listed it, for objects without a ``livemode`` field
            (refunds and balance transactions have none).
        payout: For a balance transaction, the payout it was listed under.

    Returns:
        The record.

    Raises:
        ProviderError: The object lacks a field reconciliation needs.

    Examples:
        >>> charge = {"object": "charge", "id": "ch_1", "amount": 900, "currency": "usd",
        ...           "created": 1764000000, "status": "succeeded", "captured": True,
        ...           "amount_captured": 400, "livemode": False, "metadata": {}}
        >>> stripe_record(charge).amount_captured
        400
    """
    try:
        kind = obj["object"]
        metadata = obj.get("metadata") or {}
        reference = metadata.get(metadata_key)
        if kind == "charge":
            status = obj["status"]
            captured = obj.get("captured", True)
            amount = obj["amount"]
            partial = obj.get("amount_captured")
            if status == "succeeded" and not captured:
                status = "pending"
            return StripeRecord(
                obj["id"],
                "payment",
                amount,
                obj["currency"],
                obj["created"],
                status,
                obj["livemode"],
                None,
                obj.get("payment_intent"),
                reference,
                partial if captured and partial is not None and partial != amount else None,
            )
        if kind == "refund":
            return StripeRecord(
                obj["id"],
                "refund",
                obj["amount"],
                obj["currency"],
                obj["created"],
                _REFUND_STATUS.get(obj["status"], obj["status"]),
                obj.get("livemode", livemode),
                obj["charge"],
                obj.get("payment_intent"),
                reference,
            )
        if kind == "dispute":
            status = obj["status"]
            return StripeRecord(
                obj["id"],
                "dispute",
                obj["amount"],
                obj["currency"],
                obj["created"],
                status if status in ("won", "lost") else "open",
                obj["livemode"],
                obj["charge"],
                obj.get("payment_intent"),
                reference,
            )
        if kind == "payout":
            return StripeRecord(
                obj["id"],
                "payout",
                obj["amount"],
                obj["currency"],
                obj["created"],
                obj["status"],
                obj.get("livemode", livemode),
            )
        if kind == "balance_transaction":
            return StripeRecord(
                obj["id"],
                "balance_transaction",
                obj["net"],
                obj["currency"],
                obj["created"],
                obj["status"],
                livemode,
                payout,
                None,
                obj.get("source"),
                None,
                obj.get("fee"),
            )
    except (KeyError, TypeError, AttributeError):
        raise ProviderError("a Stripe object lacks a required field") from None
    raise ProviderError("an unexpected Stripe object type was listed")


class RateLimiter:
    """One request budget shared by every thread: ``rate`` requests per second, and a pause.

    Args:
        rate: Requests per second (Stripe allows 100/s live, 25/s test by default).
        clock: The clock (its ``monotonic``).
        sleep: How to wait; `FakeClock.sleep` in tests.

    Examples:
        >>> from unified_health.billing.testing import FakeClock
        >>> clock = FakeClock()
        >>> limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
        >>> for _ in range(3):
        ...     limiter.acquire()
        >>> clock.sleeps
        [0.5, 0.5]
    """

    def __init__(self, rate: float, *, clock: Clock, sleep: Callable[[float], None]) -> None:
        given: object = rate
        if isinstance(given, bool) or not isinstance(given, int | float) or not given > 0:
            raise InvalidInputError("requests_per_second", "must be a number > 0")
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: float | None = None

    def acquire(self) -> None:
        """Wait for this thread's turn."""
        with self._lock:
            now = self._clock.monotonic()
            slot = now if self._next is None else max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)

    def pause(self, seconds: float) -> None:
        """Hold every thread back for ``seconds`` (after a 429)."""
        with self._lock:
            until = self._clock.monotonic() + seconds
            self._next = until if self._next is None else max(self._next, until)


class _Checkpoint:
    """The pages of one shard of one resource, appended to a JSON-lines file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.records: list[StripeRecord] = []
        self.cursor: str | None = None
        self.done = False
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    break  # a page cut short by a crash: fetch it again
                if entry.get("done"):
                    self.done = True
                    break
                self.records.extend(StripeRecord(*r) for r in entry["records"])
                self.cursor = entry["cursor"]

    def page(self, records: list[StripeRecord], cursor: str | None) -> None:
        self.records.extend(records)
        self.cursor = cursor
        if self.path is not None:
            line = json.dumps({"cursor": cursor, "records": records}, separators=(",", ":"))
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def finish(self) -> None:
        self.done = True
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write('{"done":true}\n')


class StripeSource:
    """Stripe's charges, refunds and disputes for a time range, as `StripeRecord` s.

    Constructing it makes no network call.

    Args:
        api_key: A secret (``sk_``) or restricted (``rk_``) key; its ``live``/``test`` prefix is
            the mode, and an object of the other mode fails the fetch.
        base_url: The API's address (a fake server in tests); Stripe's by default.
        metadata_key: The metadata key holding the host's reference (the order id).
        shards: Time shards the range is cut into, paginated in parallel.
        workers: Threads fetching shards.
        requests_per_second: The budget shared by every shard.
        page_size: Objects per page (1 to 100).
        max_retries: Retries of a page after a 429, a 5xx or a broken connection.
        timeout: Seconds per request.
        checkpoint_dir: Where finished pages are kept so a crashed fetch resumes.
        resources: Which lists to read (default: charges, refunds, disputes).
        clock: The clock; sleep: how to wait (backoff and rate limit); seed: jitter's seed.
        http_client: A ``stripe`` HTTP client; by default an httpx one.

    Raises:
        InvalidInputError: A bad key or setting (the key itself is never echoed).

    Examples:
        >>> StripeSource("sk_test_123").livemode
        False
        >>> try:
        ...     StripeSource("pk_live_123")
        ... except InvalidInputError as err:
        ...     print(err.field)
        api_key
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        metadata_key: str = "order_id",
        shards: int = 4,
        workers: int = 4,
        requests_per_second: float = 20.0,
        page_size: int = 100,
        max_retries: int = 5,
        timeout: float = 30.0,
        checkpoint_dir: str | Path | None = None,
        resources: tuple[str, ...] = RESOURCES,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        seed: int | None = None,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        given: object = api_key
        if not isinstance(given, str):
            raise InvalidInputError("api_key", "must be a str")
        self.livemode = _mode_of(api_key)
        settings: tuple[tuple[str, object, int, int], ...] = (
            ("shards", shards, 1, 256),
            ("workers", workers, 1, 64),
            ("page_size", page_size, 1, 100),
            ("max_retries", max_retries, 0, 20),
        )
        for name, value, low, high in settings:
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidInputError(name, f"must be an int from {low} to {high}")
        given_key: object = metadata_key
        if not isinstance(given_key, str) or not given_key:
            raise InvalidInputError("metadata_key", "must be a non-empty str")
        if not set(resources) <= set(RESOURCES) or not resources:
            raise InvalidInputError("resources", "must name some of: charges, refunds, disputes")
        self._clock = clock or SystemClock()
        self._sleep = sleep or _real_sleep
        self._limiter = RateLimiter(requests_per_second, clock=self._clock, sleep=self._sleep)
        self._random = random.Random(seed)  # noqa: S311 - backoff jitter, not secrets
        self.metadata_key = metadata_key
        self.shards = shards
        self.workers = workers
        self.page_size = page_size
        self.max_retries = max_retries
        self.resources = tuple(resources)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        client = http_client or stripe.HTTPXClient(timeout=timeout, allow_sync_methods=True)
        addresses: dict[str, str] = {} if base_url is None else {"api": base_url}
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            http_client=client,
            max_network_retries=0,
        )
        found = getattr(self._client, "_requestor", None)
        usable = all(hasattr(found, m) for m in ("request_raw", "_interpret_response"))
        self._requestor: Any = found if usable else None

    def _get(self, path: str, params: dict[str, Any], stop: threading.Event | None = None) -> Any:
        """One page, with bounded retries on 429, 5xx and broken connections."""
        attempt = 0
        while True:
            attempt += 1
            self._limiter.acquire()
            try:
                return self._request(path, params)
            except stripe.RateLimitError as exc:
                wait = _retry_after(exc) or self._backoff(attempt)
                self._limiter.pause(wait)
                error: ProviderError = RateLimitedError(
                    "Stripe answered 429",
                    status_code=429,
                    request_id=exc.request_id,
                    retry_after=wait,
                    attempts=attempt,
                )
            except stripe.AuthenticationError as exc:
                raise ProviderError(
                    "Stripe refused the API key",
                    status_code=exc.http_status,
                    request_id=exc.request_id,
                    attempts=attempt,
                ) from None
            except stripe.APIConnectionError:
                wait = self._backoff(attempt)
                error = ProviderError(
                    "Stripe could not be reached or cut the answer short", attempts=attempt
                )
            except stripe.StripeError as exc:
                status = exc.http_status
                if status is None or status < 500:
                    raise ProviderError(
                        f"Stripe answered {status}",
                        status_code=status,
                        request_id=exc.request_id,
                        attempts=attempt,
                    ) from None
                wait = _retry_after(exc) or self._backoff(attempt)
                error = ProviderError(
                    f"Stripe answered {status}",
                    status_code=status,
                    request_id=exc.request_id,
                    attempts=attempt,
                )
            logger.warning(
                "stripe_page_retried", path=path, attempt=attempt, status_code=error.status_code
            )
            if attempt > self.max_retries or (stop is not None and stop.is_set()):
                raise error
            self._sleep(wait)

    def _request(self, path: str, params: dict[str, Any]) -> Any:
        """One GET through the SDK; plain ``json.loads`` of a 200 body where the SDK allows it.

        The SDK's public ``raw_request`` decodes every object into ordered dicts, which costs
        more than the rest of ingest together; its requestor's ``request_raw`` returns the body
        as text, and every non-200 answer still goes through the SDK's own error mapping.
        """
        requestor = self._requestor
        if requestor is None:
            return self._client.raw_request("get", path, **params).data
        body, status, headers = requestor.request_raw(
            "get",
            path,
            params=params,
            options={},
            base_address="api",
            api_mode="V1",
            usage=["raw_request"],
        )
        if status == 200 and isinstance(body, str | bytes):
            try:
                return json.loads(body)
            except ValueError:
                raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                    "Stripe's answer was not JSON"
                ) from None
        return requestor._interpret_response(body, status, headers, api_mode="V1").data

    def _backoff(self, attempt: int) -> float:
        jitter: float = 0.5 + self._random.random() / 2
        return min(30.0, 0.5 * 2.0 ** (attempt - 1)) * jitter

    def _shard(
        self,
        resource: str,
        low: int,
        high: int,
        checkpoint: _Checkpoint,
        stop: threading.Event | None = None,
    ) -> list[StripeRecord]:
        if checkpoint.done:
            return checkpoint.records
        params: dict[str, Any] = {"limit": self.page_size, "created[gte]": low, "created[lt]": high}
        key = self.metadata_key
        live = self.livemode
        while True:
            if stop is not None and stop.is_set():
                return checkpoint.records
            if checkpoint.cursor is not None:
                params["starting_after"] = checkpoint.cursor
            body = self._get(f"/v1/{resource}", params, stop)
            data = body["data"]
            records = [stripe_record(obj, metadata_key=key, livemode=live) for obj in data]
            if any(r.livemode is not live for r in records):
                raise ProviderError("Stripe listed an object of the other mode; fetch stopped")
            checkpoint.page(records, records[-1].id if records else checkpoint.cursor)
            if not body["has_more"] or not records:
                checkpoint.finish()
                return checkpoint.records

    def fetch(
        self, start: datetime, end: datetime, *, run_key: str | None = None
    ) -> list[StripeRecord]:
        """Fetch every charge, refund and dispute created in ``[start, end)``.

        Args:
            start: First instant (aware).
            end: First instant not fetched (aware).
            run_key: Names the checkpoint files (needed to resume); by default the range.

        Returns:
            The records (shards concatenated; order is not meaningful).

        Raises:
            InvalidInputError: Naive or reversed bounds.
            ProviderError: Stripe refused the key, kept failing past ``max_retries``, or listed
                an object of the other mode.
        """
        for name, value in (("start", start), ("end", end)):
            given: object = value
            if not isinstance(given, datetime) or given.tzinfo is None:
                raise InvalidInputError(name, "must be a timezone-aware datetime")
        low, high = int(start.timestamp()), int(end.timestamp())
        if high <= low:
            raise InvalidInputError("end", "must be after start")
        step = -(-(high - low) // self.shards)
        bounds = [(a, min(a + step, high)) for a in range(low, high, step)]
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", run_key or f"{low}-{high}")
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        tasks = []
        for resource in self.resources:
            for index, (a, b) in enumerate(bounds):
                path = None
                if self.checkpoint_dir is not None:
                    path = self.checkpoint_dir / f"{tag}.{resource}.{index}-of-{len(bounds)}.jsonl"
                tasks.append((resource, a, b, _Checkpoint(path)))
        logger.info("stripe_fetch_started", shards=len(bounds), resources=len(self.resources))
        stop = threading.Event()
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(self._shard, *task, stop) for task in tasks]
            for future in as_completed(futures):
                if future.cancelled():
                    continue
                if future.exception() is not None and failure is None:
                    failure = future.exception()
                    stop.set()  # the other shards stop after their current page
                    for other in futures:
                        other.cancel()
        if failure is not None:
            logger.warning("stripe_fetch_failed", error_class=type(failure).__name__)
            raise failure
        results = [f.result() for f in futures]
        records = [r for shard in results for r in shard]
        logger.info("stripe_fetch_finished", record_count=len(records))
        return records

    def _list_all(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = []
        query = {"limit": self.page_size, **params}
        while True:
            body = self._get(path, query)
            objects.extend(body["data"])
            if not body["has_more"] or not body["data"]:
                return objects
            query["starting_after"] = body["data"][-1]["id"]

    def fetch_payouts(
        self, start: datetime, end: datetime
    ) -> tuple[list[StripeRecord], list[StripeRecord]]:
        """Fetch the payouts created in ``[start, end)`` and each one's balance transactions.

        The payout's own balance transaction (type ``payout``) is left out, so the others' nets
        must sum to the payout's amount (see `check_payouts`).

        Returns:
            ``(payouts, transactions)``.

        Raises:
            InvalidInputError: Naive bounds.
            ProviderError: Stripe failed past ``max_retries``, or listed the other mode.
        """
        for name, value in (("start", start), ("end", end)):
            given: object = value
            if not isinstance(given, datetime) or given.tzinfo is None:
                raise InvalidInputError(name, "must be a timezone-aware datetime")
        window = {"created[gte]": int(start.timestamp()), "created[lt]": int(end.timestamp())}
        live = self.livemode
        payouts = [stripe_record(o, livemode=live) for o in self._list_all("/v1/payouts", window)]
        if any(p.livemode is not live for p in payouts):
            raise ProviderError("Stripe listed a payout of the other mode; fetch stopped")
        transactions = [
            stripe_record(o, livemode=live, payout=p.id)
            for p in payouts
            for o in self._list_all("/v1/balance_transactions", {"payout": p.id})
            if o.get("type") != "payout"
        ]
        logger.info("stripe_payouts_fetched", payout_count=len(payouts))
        return payouts, transactions

    def iter_objects(self, resource: str, start: datetime, end: datetime) -> Iterator[StripeRecord]:
        """Page through one resource in one shard, lazily (for a bounded-memory consumer).

        Examples:
            >>> src = StripeSource("sk_test_123", resources=("refunds",))
            >>> src.resources
            ('refunds',)
        """
        if resource not in RESOURCES:
            raise InvalidInputError("resource", "must be one of: charges, refunds, disputes")
        yield from self._shard(
            resource, int(start.timestamp()), int(end.timestamp()), _Checkpoint(None)
        )


def _retry_after(exc: stripe.StripeError) -> float | None:
    headers = exc.headers or {}
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _real_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)
