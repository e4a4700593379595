"""The public status reader with ETags, and the command-line runner with a config file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from unified_health.status_page import (
    ProviderError,
    PublicStatusReader,
    SelfHostedStatusPage,
)
from unified_health.status_page.__main__ import main
from unified_health.status_page.testing import FakePublicFeed, FakeStatuspage


def test_the_reader_polls_with_etags() -> None:
    page = SelfHostedStatusPage(components=["api", "web"])
    with FakePublicFeed(page) as feed, PublicStatusReader(feed.url) as reader:
        first = reader.poll()
        assert (first.indicator, first.components) == (
            "none",
            {"api": "operational", "web": "operational"},
        )
        again = reader.poll()
        assert again.changed is False
        assert feed.not_modified == 1
        page.create_incident("api outage", components={"api": "major_outage"})
        changed = reader.poll()
        assert changed.changed is True
        assert (changed.indicator, changed.incidents) == ("major", ["api outage"])
        assert feed.calls[-1].headers.get("if-none-match")


def test_a_failing_page_keeps_the_last_summary() -> None:
    page = SelfHostedStatusPage(components=["api"])
    with FakePublicFeed(page) as feed, PublicStatusReader(feed.url) as reader:
        reader.poll()
        feed.fail_next(503)
        with pytest.raises(ProviderError) as caught:
            reader.poll()
        assert caught.value.status_code == 503
        assert reader.last is not None
        assert reader.last.indicator == "none"


def app(environ: dict[str, Any], start: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/down":
        start("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down"]
    start("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def write_config(tmp_path: Path, base: str, vendor_url: str, redis_url: str | None = None) -> Path:
    store = f'[store]\nredis_url = "{redis_url}"\nprefix = "uh-test:cli"\n' if redis_url else ""
    config = tmp_path / "monitor.toml"
    config.write_text(
        f"""
[page]
kind = "statuspage"
page_id = "page-1"
base_url = "{vendor_url}"

{store}
[monitor]
failures = 1
successes = 1

[[probes]]
kind = "http"
name = "api"
url = "{base}/down"
component = "api"
timeout = 2

[[probes]]
kind = "http"
name = "web"
url = "{base}/health"
component = "web"
timeout = 2

[[windows]]
components = ["web"]
weekdays = [0, 1, 2, 3, 4, 5, 6]
start = "00:00"
duration_minutes = 1
timezone = "Pacific/Kiritimati"
"""
    )
    return config


def test_plan_prints_the_changes_and_sends_nothing(
    tmp_path: Path,
    loopback_server: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UH_STATUS_PAGE_API_KEY", "test-key")
    base = loopback_server(app).url
    with FakeStatuspage(components=["api", "web"]) as vendor:
        config = write_config(tmp_path, base, vendor.url)
        assert main(["check", "--config", str(config)]) == 0
        assert main(["plan", "--config", str(config)]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()[1:]]
        assert {
            "action": "open_incident",
            "group": "api",
            "components": {"api": "major_outage"},
        } in lines
        assert [c.method for c in vendor.calls if c.method != "GET"] == []
        assert main(["run", "--once", "--config", str(config)]) == 0
        assert len(vendor.incidents) == 1
        assert vendor.status_of("api") == "major_outage"


def test_a_bad_config_is_reported_by_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UH_STATUS_PAGE_API_KEY", "test-key")
    config = tmp_path / "bad.toml"
    config.write_text(
        '[page]\npage_id = "p"\n[[probes]]\nkind = "http"\nname = "x"\nurl = "ftp://x"\n'
    )
    assert main(["check", "--config", str(config)]) == 2
    assert "probes.0.url" in capsys.readouterr().err
    config.write_text("[pages]\n")
    assert main(["check", "--config", str(config)]) == 2
    assert main(["check", "--config", str(tmp_path / "missing.toml")]) == 2
