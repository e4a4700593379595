"""The command-line runner: ``python -m unified_health.status_page``.

Subcommands:

- ``run --config monitor.toml``: probe forever (a sidecar); ``--once`` runs every probe once,
  reconciles and exits (a cron job); ``--dry-run`` sends nothing.
- ``plan --config monitor.toml``: run every probe once and print the changes a cycle would
  make, one JSON object per line, without sending them.
- ``check --config monitor.toml``: validate the file and exit.

With ``[metrics] port = 9115`` the runner serves ``/metrics`` (Prometheus text format) and,
for a self-hosted page, ``/``, ``/api/v2/summary.json`` and ``/api/v2/status.json``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from unified_health.status_page._config import MonitorSetup, build_monitor, load_config
from unified_health.status_page._errors import StatusPageError
from unified_health.status_page._selfhosted import SelfHostedStatusPage

__all__ = ["main"]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


def _serve(setup: MonitorSetup) -> Callable[[], None]:
    page = setup.page

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterator[bytes]:
        path = environ.get("PATH_INFO", "/")
        kind, body = "text/plain; version=0.0.4", b""
        if path == "/metrics":
            body = setup.metrics.render().encode()
        elif isinstance(page, SelfHostedStatusPage) and path == "/":
            kind, body = "text/html; charset=utf-8", page.render_html().encode()
        elif isinstance(page, SelfHostedStatusPage) and path == "/api/v2/summary.json":
            kind, body = "application/json", json.dumps(page.summary_json()).encode()
        elif isinstance(page, SelfHostedStatusPage) and path == "/api/v2/status.json":
            kind, body = "application/json", json.dumps(page.status_json()).encode()
        else:
            start("404 Not Found", [("Content-Type", "text/plain")])
            return iter([b"not found"])
        start("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return iter([body])

    server = make_server("0.0.0.0", int(setup.metrics_port or 0), app, handler_class=_Quiet)  # noqa: S104 - a sidecar serves its pod
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server.shutdown


def _once(setup: MonitorSetup) -> list[Any]:
    results = [setup.runner.run(probe) for probe in setup.scheduler.probes]
    return setup.monitor.step(results, force=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad configuration)."""
    parser = argparse.ArgumentParser(prog="python -m unified_health.status_page")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "plan", "check"):
        sub = commands.add_parser(name)
        sub.add_argument("--config", required=True, help="path of the TOML configuration")
        if name == "run":
            sub.add_argument("--once", action="store_true", help="one cycle, then exit")
            sub.add_argument("--dry-run", action="store_true", help="send nothing")
    args = parser.parse_args(argv)
    try:
        data = load_config(args.config)
        setup = build_monitor(
            data, dry_run=args.command == "plan" or getattr(args, "dry_run", False)
        )
    except StatusPageError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    try:
        if args.command == "check":
            sys.stdout.write(f"ok: {len(setup.scheduler.probes)} probes\n")
            return 0
        if args.command == "plan" or args.once:
            for change in _once(setup):
                sys.stdout.write(json.dumps(change.model_dump()) + "\n")
            return 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        shutdown = _serve(setup) if setup.metrics_port is not None else None
        try:
            while not stop.is_set():
                setup.monitor.step(setup.scheduler.tick())
                stop.wait(min(max(setup.scheduler.seconds_until_next(), 0.05), 1.0))
        except KeyboardInterrupt:
            pass
        finally:
            if shutdown is not None:
                shutdown()
        return 0
    finally:
        setup.close()


if __name__ == "__main__":
    raise SystemExit(main())
