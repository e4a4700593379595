"""Every example runs and every benchmark's quick mode prints the family's JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
WALKTHROUGH = sorted((ROOT / "examples" / "walkthrough").glob("*.py"))
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
RESULT_KEYS = {"name", "unit", "median", "n"}


def test_there_is_at_least_one_example() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip()


def test_the_demo_shows_a_walkthrough_step_of_every_package() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    shown = len(WALKTHROUGH)
    assert f"\n{shown} packages shown, 0 failed\n" in result.stdout
    assert "not installed" not in result.stdout
    assert "internal_error" not in result.stdout
    assert "video-visits is on for 5 of 5 users" in result.stdout
    assert "[REDACTED:email]" in result.stdout
    assert 'jane.doe@example.org"' not in result.stdout.split("received", 1)[1]


@pytest.mark.parametrize("script", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_benchmark_quick_mode_prints_the_family_json(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["package"].startswith("uh-")
    assert report["machine"]["cpus"] >= 1
    assert report["results"]
    for row in report["results"]:
        assert row.keys() >= RESULT_KEYS, row
        assert row["n"] > 0
