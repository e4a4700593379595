"""The ``uh-impersonation`` command: ``audit verify`` and ``audit export``.

Examples::

    uh-impersonation audit verify --redis-url redis://127.0.0.1:6379/0
    uh-impersonation audit verify --postgres-url postgresql://postgres@127.0.0.1/test
    uh-impersonation audit verify --export-dir ./exports/2026-01
    uh-impersonation audit export --redis-url redis://... --out ./exports/2026-01 --format jsonl

The checkpoint key is read from the environment variable ``UH_IMPERSONATION_AUDIT_KEY`` (hex),
never from the command line. Exit status: 0 verified, 1 a problem was found, 2 bad usage or an
unreachable store.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence

from unified_health.impersonation._audit import AuditTrail, verify_export
from unified_health.impersonation._errors import ImpersonationError
from unified_health.impersonation.stores._protocol import AuditLog

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uh-impersonation")
    commands = parser.add_subparsers(dest="group", required=True)
    audit = commands.add_parser("audit", help="verify or export the audit trail")
    actions = audit.add_subparsers(dest="action", required=True)
    for name in ("verify", "export"):
        action = actions.add_parser(name)
        source = action.add_mutually_exclusive_group(required=True)
        source.add_argument("--redis-url")
        source.add_argument("--postgres-url")
        if name == "verify":
            source.add_argument("--export-dir")
        else:
            action.add_argument("--out", required=True)
            action.add_argument("--format", choices=["jsonl", "fhir"], default="jsonl")
        action.add_argument("--prefix", default="uh:impersonation")
        action.add_argument("--table", default="uh_impersonation_audit")
        action.add_argument("--key-id", default="k1")
    return parser


def _log(args: argparse.Namespace) -> AuditLog:
    if args.redis_url:
        from unified_health.impersonation.stores._redis import RedisAuditLog

        return RedisAuditLog.from_url(args.redis_url, prefix=args.prefix)
    from unified_health.impersonation.stores._postgres import PostgresAuditLog

    return PostgresAuditLog.from_url(args.postgres_url, table=args.table)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; return the exit status.

    Examples:
        >>> main(["audit", "verify", "--export-dir", "/nonexistent"], environ={})
        2
    """
    args = _parser().parse_args(argv)
    env = os.environ if environ is None else environ
    key: bytes | None = None
    if env.get("UH_IMPERSONATION_AUDIT_KEY"):
        try:
            key = bytes.fromhex(env["UH_IMPERSONATION_AUDIT_KEY"])
        except ValueError:
            sys.stderr.write("UH_IMPERSONATION_AUDIT_KEY must be hex\n")
            return 2
    keys = {args.key_id: key} if key is not None else {}
    try:
        if args.action == "verify" and args.export_dir:
            report = verify_export(args.export_dir, keys=keys)
        else:
            log = _log(args)
            try:
                trail = AuditTrail(log, signing_key=key if key and len(key) >= 32 else None)
                if args.action == "export":
                    path = (
                        trail.export_jsonl(args.out)
                        if args.format == "jsonl"
                        else trail.export_fhir(args.out)
                    )
                    sys.stdout.write(json.dumps({"written": str(path)}) + "\n")
                    return 0
                report = trail.verify(keys=keys)
            finally:
                log.close()
    except ImpersonationError as exc:
        sys.stderr.write(f"error: {type(exc).__name__}: {exc}\n")
        return 2
    sys.stdout.write(
        json.dumps(
            {
                "ok": report.ok,
                "checked": report.checked,
                "checkpoints": report.checkpoints,
                "problem": report.problem,
                "seq": report.seq,
            }
        )
        + "\n"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
