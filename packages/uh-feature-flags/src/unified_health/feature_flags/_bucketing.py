"""Deterministic bucketing: the contract every runtime must reproduce bit for bit.

The algorithm, for a flag ``flag_key`` with salt ``salt`` and a context whose bucket-by attribute
holds ``value``:

1. ``value`` must be a string, or an integer (not a boolean), which is written in decimal.
   Anything else, or a missing attribute, means "no bucket key".
2. ``digest = SHA-1(UTF-8(salt + "." + flag_key + "." + value))`` (20 bytes). An empty salt is
   still joined: ``".checkout.user-123"``.
3. ``coverage_bucket = (uint64_be(digest[0:8]) * 100000) >> 64``, an integer in ``[0, 100000)``.
4. ``variant_bucket = (uint64_be(digest[8:16]) * 100000) >> 64``, also in ``[0, 100000)``.
5. A percentage ``p`` (0-100, at most three decimals) becomes ``units = round(p * 1000)``. The
   context is covered when ``coverage_bucket < units``.
6. A covered context walks the rollout's variants in their listed order, adding each weight's
   units; it gets the first variant whose running total exceeds ``variant_bucket``.

Because coverage and variant come from different bits of the digest, raising the percentage only
adds contexts, and changing the percentage never moves a covered context to another variant.
Changing the salt reshuffles everyone (use it to re-run an experiment on fresh buckets).

Examples:
    >>> buckets("new-checkout", "", "user-123")
    (90211, 2819)
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

__all__ = [
    "BUCKETS",
    "bucket_value",
    "buckets",
    "percentage_units",
    "pick_variant",
]

BUCKETS = 100_000
"""How many buckets a percentage is resolved into (so 0.001 % is the finest step)."""

_UNPACK = struct.Struct(">QQ").unpack_from


def bucket_value(raw: Any) -> str | None:
    """Normalise an attribute value into the string that is hashed.

    Args:
        raw: The attribute value from the context.

    Returns:
        The string to hash, or ``None`` when the value cannot be a bucket key.

    Examples:
        >>> (bucket_value("u-1"), bucket_value(42), bucket_value(True), bucket_value(None))
        ('u-1', '42', None, None)
    """
    if isinstance(raw, str):
        return str(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def buckets(flag_key: str, salt: str, value: str) -> tuple[int, int]:
    """Return ``(coverage_bucket, variant_bucket)`` for one context, each in ``[0, 100000)``.

    Args:
        flag_key: The flag's key.
        salt: The flag's salt (may be empty).
        value: The normalised bucket key (see `bucket_value`).

    Returns:
        The two buckets described in the module docstring.

    Examples:
        >>> buckets("f", "s", "u")[0] < BUCKETS
        True
    """
    high, low = _UNPACK(
        hashlib.sha1(f"{salt}.{flag_key}.{value}".encode(), usedforsecurity=False).digest()
    )
    return (high * BUCKETS) >> 64, (low * BUCKETS) >> 64


def percentage_units(percentage: float) -> int:
    """Convert a percentage (0-100) into bucket units (0-100000).

    Args:
        percentage: A percentage with at most three decimals.

    Returns:
        ``round(percentage * 1000)``.

    Examples:
        >>> percentage_units(12.5)
        12500
    """
    return round(percentage * 1000)


def pick_variant(variant_bucket: int, cumulative: tuple[int, ...]) -> int:
    """Return the index of the variant whose cumulative upper bound first exceeds the bucket.

    Args:
        variant_bucket: The context's variant bucket.
        cumulative: Running totals of the variants' units, ending at 100000.

    Returns:
        The index into the rollout's variants.

    Examples:
        >>> pick_variant(60000, (50000, 100000))
        1
    """
    for index, bound in enumerate(cumulative):
        if variant_bucket < bound:
            return index
    return len(cumulative) - 1
