"""Deterministic bucketing: the contract every runtime must reproduce bit for bit.

The algorithm, for a flag ``flag_key`` with salt ``salt`` and a context whose bucket-by attribute
holds ``value``:

1. ``value`` must be a string, or an integer (not a boolean), which is written in decimal.
   Anything else, or a missing attribute, means "no bucket key".
2. The hash input is a domain tag followed by the three parts, each length-prefixed::

       b"uhff-bucket-v2"                                   (14 bytes, ASCII)
       uint32_be(len(S)) || S                              S = UTF-8(salt), may be empty
       uint32_be(len(F)) || F                              F = UTF-8(flag_key)
       uint32_be(len(U)) || U                              U = UTF-8(value)

   Lengths count bytes, not characters. Because every part carries its length, the encoding is
   injective: two different ``(salt, flag_key, value)`` triples never share an input, whatever
   characters (``.`` included) the parts hold. For example, salt ``""``, flag ``new-checkout``
   and user ``user-123`` give ``756866662d6275636b65742d7632 00000000 0000000c
   6e65772d636865636b6f7574 00000008 757365722d313233`` (spaces added).
3. ``digest = SHA-1(input)`` (20 bytes).
4. ``coverage_bucket = (uint64_be(digest[0:8]) * 100000) >> 64``, an integer in ``[0, 100000)``.
5. ``variant_bucket = (uint64_be(digest[8:16]) * 100000) >> 64``, also in ``[0, 100000)``.
6. A percentage ``p`` (0-100, at most three decimals) becomes ``units = round(p * 1000)``. The
   context is covered when ``coverage_bucket < units``.
7. A covered context walks the rollout's variants in their listed order, adding each weight's
   units; it gets the first variant whose running total exceeds ``variant_bucket``.

Because coverage and variant come from different bits of the digest, raising the percentage only
adds contexts, and changing the percentage never moves a covered context to another variant.
Changing the salt reshuffles everyone (use it to re-run an experiment on fresh buckets).

Examples:
    >>> buckets("new-checkout", "", "user-123")
    (16766, 46961)
    >>> bucket_input("new-checkout", "", "user-123").hex()
    '756866662d6275636b65742d7632000000000000000c6e65772d636865636b6f757400000008757365722d313233'
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

__all__ = [
    "BUCKETS",
    "DOMAIN_TAG",
    "bucket_input",
    "bucket_prefix",
    "bucket_value",
    "buckets",
    "buckets_after",
    "percentage_units",
    "pick_variant",
]

BUCKETS = 100_000
"""How many buckets a percentage is resolved into (so 0.001 % is the finest step)."""

DOMAIN_TAG = b"uhff-bucket-v2"
"""The bytes every hash input starts with (names the contract and its version)."""

_UNPACK = struct.Struct(">QQ").unpack_from
_sha1 = hashlib.sha1


def _part(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(4, "big") + data


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


def bucket_prefix(flag_key: str, salt: str) -> bytes:
    """Return the part of the hash input shared by every context of one flag.

    Args:
        flag_key: The flag's key.
        salt: The flag's salt (may be empty).

    Returns:
        ``DOMAIN_TAG || uint32_be(len(S)) || S || uint32_be(len(F)) || F``.

    Examples:
        >>> bucket_prefix("f", "s").hex()
        '756866662d6275636b65742d763200000001730000000166'
    """
    return DOMAIN_TAG + _part(salt) + _part(flag_key)


def bucket_input(flag_key: str, salt: str, value: str) -> bytes:
    """Return the exact bytes that are hashed for one context (see the module docstring).

    Args:
        flag_key: The flag's key.
        salt: The flag's salt (may be empty).
        value: The normalised bucket key (see `bucket_value`).

    Returns:
        The length-prefixed hash input.

    Examples:
        >>> bucket_input("a.b", "", "c") != bucket_input("a", "", "b.c")
        True
    """
    return bucket_prefix(flag_key, salt) + _part(value)


def buckets_after(prefix: bytes, value: str) -> tuple[int, int]:
    """Return ``(coverage_bucket, variant_bucket)`` given a flag's `bucket_prefix`.

    The evaluator computes the prefix once per flag and calls this per context.

    Args:
        prefix: ``bucket_prefix(flag_key, salt)``.
        value: The normalised bucket key.

    Returns:
        The two buckets.

    Examples:
        >>> buckets_after(bucket_prefix("new-checkout", ""), "user-123")
        (16766, 46961)
    """
    data = value.encode()
    high, low = _UNPACK(
        _sha1(prefix + len(data).to_bytes(4, "big") + data, usedforsecurity=False).digest()
    )
    return (high * BUCKETS) >> 64, (low * BUCKETS) >> 64


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
    return buckets_after(bucket_prefix(flag_key, salt), value)


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
