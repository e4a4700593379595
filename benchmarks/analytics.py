"""uh-analytics benchmark: caller cost, detection cost, delivered throughput, shutdown drain.

Prints one JSON object (the family's shape). Peers run on the same events in the same run:
segment-analytics-python and posthog (enqueue cost, pointed at a loopback sink), Presidio and
scrubadub (detection cost). A peer that is not installed, or cannot run offline, is reported
with a ``note`` instead of a figure. Everything talks to 127.0.0.1 only.

    python benchmarks/analytics.py [--quick]
    python benchmarks/analytics.py --soak [--fault 500|429|slow] [--outage 60] [--durable]
    nox -s bench -- analytics --soak --fault=429 --outage=160     # the same, from nox

``--soak`` runs a fault soak instead: ``track()`` paced at 2,000 calls/s through a vendor outage
(every request answered 500, 429 with Retry-After, or held past the client's timeout) with the
Redis spill store, then the vendor recovers; it reports what was accepted, delivered, spilled
and dropped, the ``track()`` latency during the outage, the peak RSS and how long the backlog
took to drain. It needs Redis on ``UH_REDIS_URL`` (``redis://127.0.0.1:6379/15`` by default) and
talks to 127.0.0.1 only; it is bounded by ``--outage`` plus about 70 s.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import structlog

from unified_health.analytics import (
    AmplitudeProvider,
    AnalyticsClient,
    HmacPseudonymizer,
    MixpanelProvider,
    PostHogProvider,
    Sanitizer,
)

KEY = {"k1": b"benchmark-key-0123456789abcdef-01"}


def version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def typical_events(n: int, start: int = 0) -> list[dict[str, Any]]:
    """Up to 10 properties, under 1 KB, with the odd identifier a developer lets slip.

    Events ``start`` to ``start + n``: a page path, a phone number or an e-mail address differ
    from event to event (the sanitiser remembers short values it found clean, so a run that
    repeated them would measure its cache); the other properties take a few values each.
    """
    events = []
    for i in range(start, start + n):
        props: dict[str, Any] = {
            "specialty": ("cardiology", "dermatology", "oncology")[i % 3],
            "slot_minutes": 15 + i % 4 * 15,
            "channel": "web" if i % 2 else "app",
            "clinic_region": "north-east",
            "first_visit": i % 5 == 0,
            "price_band": "b" + str(i % 7),
            "path": f"/appointments/{1000 + i}/confirm",
            "referrer": "newsletter",
        }
        if i % 10 == 0:
            props["note"] = f"patient asked to be called on (555) 201-{1000 + i % 9000:04d}"
        if i % 25 == 0:
            props["contact"] = f"jane.doe{i}@example.org"
        events.append(props)
    return events


def summarise(samples_us: list[float]) -> dict[str, float]:
    ordered = sorted(samples_us)
    n = len(ordered)
    return {
        "median": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(n - 1, int(n * 0.95))], 3),
        "p99": round(ordered[min(n - 1, int(n * 0.99))], 3),
        "n": n,
    }


def per_call(fn: Callable[[int], Any], n: int) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        fn(i)
        out.append((clock() - start) / 1000)
    return out


# -- vendor sinks in a separate process (so their CPU does not share our GIL) ---------------------
SINK = """
import sys
from unified_health.analytics.testing import FakeAmplitude, FakeMixpanel, FakePostHog
latency = float(sys.argv[1])
servers = [FakePostHog(latency=latency), FakeMixpanel(latency=latency),
           FakeAmplitude(latency=latency)]
print(" ".join(s.url for s in servers), flush=True)
sys.stdin.read()
print(" ".join(str(len(s.events)) for s in servers), flush=True)
"""


class Sinks:
    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SINK, str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.posthog, self.mixpanel, self.amplitude = self.proc.stdout.readline().split()

    def close(self) -> list[int]:
        out, _ = self.proc.communicate("", timeout=60)
        return [int(x) for x in out.split()]


def client_for(providers: list[Any], **options: Any) -> AnalyticsClient:
    return AnalyticsClient(
        providers,
        default_consent="analytics",
        pseudonymizer=HmacPseudonymizer(KEY),
        register_atexit=False,
        **options,
    )


# -- 1. caller cost --------------------------------------------------------------------------------
def paced(fn: Callable[[int], Any], n: int, rate: float) -> list[float]:
    """Call ``fn`` at ``rate`` calls per second (a host serving requests), timing each call."""
    out = []
    clock = time.perf_counter_ns
    step = int(1e9 / rate)
    due = clock()
    for i in range(n):
        due += step
        start = clock()
        fn(i)
        end = clock()
        out.append((end - start) / 1000)
        while clock() < due:  # wait for the next request without sleeping past it
            if due - clock() > 1_000_000:
                time.sleep(0.0005)
    return out


def _track_row(name: str, samples: list[float], note: str) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "unit": "us", **summarise(samples)}
    row["target"] = {"p50": 50, "p99": 250}
    row["meets_target"] = row["median"] <= 50 and row["p99"] <= 250
    row["note"] = note
    return row


def _three_providers(sinks: Sinks, n: int, flush_interval: float | None) -> AnalyticsClient:
    options: dict[str, Any] = {"max_queue_events": n + 10}
    if flush_interval is not None:
        options["flush_interval"] = flush_interval
    return client_for(
        [
            PostHogProvider("phc_test_key", base_url=sinks.posthog),
            MixpanelProvider(
                "1234567", "mp-service-secret", service_account="sa.user", base_url=sinks.mixpanel
            ),
            AmplitudeProvider("amp-api-key", base_url=sinks.amplitude),
        ],
        **options,
    )


def _track_samples(
    n: int, paced_n: int, flush_interval: float | None, start: int
) -> tuple[list[float], list[float]]:
    """Back-to-back and paced samples of ``track()`` while three providers deliver.

    Every call gets an event not seen before in the run (see `typical_events`).
    """
    warm = typical_events(200, start)
    events = typical_events(n, start + 200)
    later = typical_events(paced_n, start + 200 + n)
    sinks = Sinks(0.05)
    client = _three_providers(sinks, n + paced_n, flush_interval)
    for i, props in enumerate(warm):  # warm caches (event names, keys) as a service would be
        client.track("appointment_booked", props, user_id=f"user-{i}")
    samples = per_call(
        lambda i: client.track("appointment_booked", events[i], user_id=f"user-{i % 500}"), n
    )
    paced_samples = (
        paced(
            lambda i: client.track("appointment_booked", later[i], user_id=f"user-{i % 500}"),
            paced_n,
            2000,
        )
        if paced_n
        else []
    )
    client.shutdown(timeout=30)
    sinks.close()
    return samples, paced_samples


def bench_track(n: int, paced_n: int) -> list[dict[str, Any]]:
    samples, paced_samples = _track_samples(n, paced_n, None, start=0)
    fast_flush, _ = _track_samples(n, 0, 0.05, start=0)  # a new client: a new sanitiser
    events = typical_events(n)
    slow = sum(1 for s in samples if s > 250)
    pipeline = (
        "validation, schema, sanitisation, consent check and enqueue for three providers "
        "(pseudonymisation and vendor JSON run on the sender threads), while the pipeline "
        "delivers to three loopback fake vendors 50 ms away (separate process)"
    )
    common = f"{pipeline}; default settings (batches flushed every 0.5 s, as the peers do)"
    row = _track_row(
        "track_caller_cost",
        samples,
        f"{common}; calls back to back (saturated: the host thread and the sender threads "
        f"contend for the GIL); calls over 250 us: {slow} of {n}",
    )
    peers: dict[str, Any] = {}
    with Sinkless() as host:
        peers["segment-analytics-python"] = peer_segment(events, host)
        peers["posthog"] = peer_posthog(events, host)
    row["peers"] = peers
    row["ratio_to"] = {
        name: round(row["median"] / p["median"], 3) for name, p in peers.items() if p.get("median")
    }
    paced_row = _track_row(
        "track_caller_cost_2000_per_s",
        paced_samples,
        f"{common}; calls paced at 2,000 per second, as a host serving requests makes them",
    )
    fast_row: dict[str, Any] = {
        "name": "track_caller_cost_flush_every_50ms",
        "unit": "us",
        **summarise(fast_flush),
        "note": f"{pipeline}; batches flushed every 50 ms (flush_interval=0.05): ten times "
        "the sender wake-ups the host thread competes with",
    }
    return [row, paced_row, fast_row]


class Sinkless:
    """A loopback address that answers every POST with 200, for the peers' background threads."""

    def __enter__(self) -> str:
        self.sinks = Sinks(0.0)
        return self.sinks.posthog

    def __exit__(self, *exc: object) -> None:
        self.sinks.close()


def peer_segment(events: list[dict[str, Any]], host: str) -> dict[str, Any]:
    if version("segment-analytics-python") is None:
        return {"median": None, "version": None, "note": "not installed"}
    from segment.analytics import Client

    client = Client("write-key", host=host, max_queue_size=len(events) + 10, send=True)
    samples = per_call(
        lambda i: client.track(f"user-{i % 500}", "appointment_booked", events[i]), len(events)
    )
    client.shutdown()
    return {
        "median": round(statistics.median(samples), 3),
        "p99": summarise(samples)["p99"],
        "version": version("segment-analytics-python"),
        "note": "enqueue only: no sanitisation, consent or pseudonymisation",
    }


def peer_posthog(events: list[dict[str, Any]], host: str) -> dict[str, Any]:
    if version("posthog") is None:
        return {"median": None, "version": None, "note": "not installed"}
    from posthog import Posthog

    client = Posthog("phc_bench", host=host, max_queue_size=len(events) + 10)
    samples = per_call(
        lambda i: client.capture(
            "appointment_booked", distinct_id=f"user-{i % 500}", properties=events[i]
        ),
        len(events),
    )
    client.shutdown()
    return {
        "median": round(statistics.median(samples), 3),
        "p99": summarise(samples)["p99"],
        "version": version("posthog"),
        "note": "enqueue only: no sanitisation, consent or pseudonymisation",
    }


# -- 2. detection cost -----------------------------------------------------------------------------
def bench_detection(n: int) -> dict[str, Any]:
    events = typical_events(n)
    sanitizer = Sanitizer()
    samples = per_call(lambda i: sanitizer.scrub(events[i]), n)
    row: dict[str, Any] = {"name": "detection_cost_per_event", "unit": "us", **summarise(samples)}
    row["note"] = "PII/PHI detection and redaction of one typical event's properties"
    peers = {"presidio-analyzer": peer_presidio(events), "scrubadub": peer_scrubadub(events)}
    row["peers"] = peers
    row["ratio_to"] = {
        name: round(row["median"] / p["median"], 3) for name, p in peers.items() if p.get("median")
    }
    return row


# Values built against the detectors' patterns: a cue, then a long run their repeats accept,
# then a character that makes the match fail. Each is cut to the length given and scrubbed as
# declared free text (the detectors read all of it) and as a label (prose is replaced unread).
ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "spaces after a role word": lambda n: "Patient" + " " * n + "!",
    "spaced at and dot": lambda n: "a at b dot " * (n // 11),
    "at signs": lambda n: "a@" * (n // 2),
    "local part dots": lambda n: "a." * (n // 2),
    "digit groups": lambda n: "1 " * (n // 2),
    "dotted digits": lambda n: "1." * (n // 2),
    "URL segments": lambda n: "/a1b2c3d4" * (n // 9),
    "relative path": lambda n: "a/" * (n // 2),
    "query pairs": lambda n: "?a=b&" * (n // 5),
    "JSON members": lambda n: '"k":"' * (n // 5),
    "labelled fields": lambda n: "Zip: " * (n // 5),
    "month words": lambda n: "March " * (n // 6),
    "given names": lambda n: "olivia " * (n // 7),
    "invisible characters": lambda n: "1\u200b" * (n // 2),
    "street words": lambda n: "1 a b c d street " * (n // 17),
    "one long word": lambda n: "a" * n,
    "one long token of dots": lambda n: "a." * (n // 2),
}


def _worst(sanitizer: Sanitizer, size: int) -> dict[str, float]:
    """The time of each value, the slower of reading it as declared free text or as a label."""
    label = Sanitizer()
    times: dict[str, float] = {}
    for name, build in ADVERSARIAL.items():
        value = build(size)[:size]
        slowest = 0.0
        for each in (sanitizer, label):
            start = time.perf_counter()
            each.scrub({"note": value})
            slowest = max(slowest, time.perf_counter() - start)
        times[name] = round(slowest * 1000, 2)
    return times


def bench_worst_case(size: int) -> dict[str, Any]:
    """The slowest adversarial value at ``size`` characters, and how it grows from size / 4."""
    sanitizer = Sanitizer(free_text_keys=["note"])
    small = _worst(sanitizer, size // 4)
    times = _worst(sanitizer, size)
    slowest = max(times, key=times.__getitem__)
    growth = {k: round(times[k] / small[k], 1) for k in times if small[k] >= 0.05}
    return {
        "name": "scrub_worst_case",
        "unit": "ms",
        "median": round(statistics.median(times.values()), 2),
        "max": times[slowest],
        "n": len(times),
        "slowest": slowest,
        "per_input": times,
        "growth_for_4x_length": growth,
        "note": f"Sanitizer.scrub of one declared free-text value of {size:,} characters built "
        "to make the patterns backtrack; growth_for_4x_length near 4 means linear time. Through "
        "AnalyticsClient a string is read only up to max_string_length + 256 characters",
    }


# -- 2b. detection quality ------------------------------------------------------------------------
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "packages", "uh-analytics", "tests", "data")


def bench_holdout() -> dict[str, Any]:
    """Recall and false-positive rate on the holdout corpus, through the public Sanitizer."""
    from unified_health.analytics.evaluation import evaluate, load_corpus

    holdout = os.path.join(DATA, "holdout")
    files = (
        sorted(f for f in os.listdir(holdout) if f.endswith(".jsonl"))
        if os.path.isdir(holdout)
        else []
    )
    if not files:
        return {"name": "holdout_recall", "unit": "ratio", "note": "no holdout corpus found"}
    score = evaluate(Sanitizer(), load_corpus(os.path.join(holdout, files[-1])))
    summary = score.summary()
    return {
        "name": "holdout_recall",
        "unit": "ratio",
        "median": summary["recall"],
        "n": summary["identifiers"],
        "false_positive_rate": summary["false_positive_rate"],
        "benign": summary["benign"],
        "recall_by_category": summary["recall_by_category"],
        "target": 0.99,
        "meets_target": bool(score.recall >= 0.99),
        "note": f"{files[-1]}: identifiers absent from the outbound properties, after the "
        "fixes that followed first contact (the first-contact figure is in the docs)",
    }


RESTRICTED = {"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831",
              "878", "879", "884", "890", "893"}  # fmt: skip


def bench_fuzz(n: int) -> dict[str, Any]:
    """A seeded fuzz of identifier forms through the client to all three vendors (recorded, not
    sent): how many identifiers appear in any outbound payload."""
    import random

    from unified_health.analytics import RecordingTransport

    rng = random.Random(20261206)
    transports = [RecordingTransport() for _ in range(3)]
    client = AnalyticsClient(
        [
            MixpanelProvider("42", "secret", transport=transports[0]),
            AmplitudeProvider("key", transport=transports[1]),
            PostHogProvider("phc", transport=transports[2]),
        ],
        default_consent="analytics",
        pseudonymizer=HmacPseudonymizer(KEY),
        register_atexit=False,
        max_queue_events=n + 100,
    )
    secrets: set[str] = set()
    for i in range(n):
        first = rng.choice(["olivia", "marcus", "priya", "jane", "omar", "sofia"])
        surname = rng.choice(["Brennan", "Okafor", "Lindqvist", "Haddad"])
        email = f"{first}.{rng.randrange(10**5)}@example.org"
        ssn = f"{rng.randrange(100, 899)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
        phone = " ".join(str(rng.randrange(10, 99)) for _ in range(5))
        day = f"{rng.randrange(1, 12)}/{rng.randrange(10, 28)}/'{rng.randrange(40, 99)}"
        record = str(rng.randrange(10**8, 10**9))
        secrets.update({email.split("@")[0], ssn, phone, day, record, surname})
        local, domain = email.split("@")
        props = rng.choice(
            [
                {"note": f"Patient {first.title()} {surname} said it hurts since {day}"},
                {"contact": f"{local} at {domain.replace('.', ' dot ')}"},
                {"ref": "\u200b".join(ssn)},
                {"phone_alt": phone},
                {"page": f"/api/v2/clinics/{rng.randrange(9)}/rooms/x/records/{record}/notes"},
                {"caption": f"Patient {first.title()} {surname}"},
                {"seen": f"seen {day}"},
            ]
        )
        name = "page_viewed" if rng.random() < 0.95 else f"viewed {first} {surname} chart"
        client.track(name, {"n": i, **props}, user_id=f"u-{i}")
    client.shutdown(timeout=30)
    payload = json.dumps([r.payload for t in transports for r in t.requests], ensure_ascii=False)
    leaked = sum(1 for secret in secrets if secret in payload)
    return {
        "name": "fuzz_identifiers_in_outbound_payloads",
        "unit": "count",
        "median": leaked,
        "n": n,
        "identifiers": len(secrets),
        "target": 0,
        "meets_target": leaked == 0,
        "note": "seeded events holding names after a role word, obfuscated e-mails, SSNs with "
        "invisible characters, phones in pairs, deep REST ids, dates with 'yy years, names in "
        "event names; sent to Mixpanel, Amplitude and PostHog over recording transports",
    }


def ordinary_values(n: int) -> list[tuple[str, Any]]:
    """Seeded ordinary analytics values: timestamps, event and order ids, versions, prices,
    specialties, states, countries, ZIP3, years, durations and user agents."""
    import random
    import uuid

    rng = random.Random(20261206)
    specialties = ["cardiology", "dermatology", "internal medicine", "pediatrics", "oncology"]
    states = ["Texas", "California", "New York", "Ohio", "WA", "FL"]
    countries = ["United States", "Canada", "Germany", "India", "Brazil", "GB"]
    agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_{v} like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "ExampleHealth/4.{v}.0 (Android 14; SM-A546U; build 41102)",
    ]
    makers: list[Callable[[], tuple[str, Any]]] = [
        lambda: (
            "created_at",
            f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T"
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        ),
        lambda: ("ts", 1_764_000_000 + rng.randrange(10**7)),
        lambda: ("event_id", str(uuid.UUID(int=rng.getrandbits(128)))),
        lambda: ("order_id", f"ORD-2026-{rng.randrange(10**5):05d}"),
        lambda: ("app_version", f"{rng.randrange(1, 30)}.{rng.randrange(20)}.{rng.randrange(50)}"),
        lambda: ("price", round(rng.uniform(1, 999), 2)),
        lambda: ("price_label", f"${rng.randrange(1, 999)}.{rng.randrange(100):02d}"),
        lambda: ("specialty", rng.choice(specialties)),
        lambda: ("state", rng.choice(states)),
        lambda: ("country", rng.choice(countries)),
        # Not the 17 prefixes Safe Harbor requires to be 000: those are identifiers.
        lambda: (
            "zip3",
            rng.choice([f"{n:03d}" for n in range(1000) if f"{n:03d}" not in RESTRICTED]),
        ),
        lambda: ("birth_year", str(rng.randrange(1940, 2010))),
        lambda: ("duration_ms", rng.randrange(10**6)),
        lambda: ("duration", f"{rng.randrange(60)}m {rng.randrange(60)}s"),
        lambda: ("user_agent", rng.choice(agents).format(v=rng.randrange(10, 140))),
    ]
    return [rng.choice(makers)() for _ in range(n)]


def bench_false_positives(n: int) -> dict[str, Any]:
    """Ordinary analytics values changed by the default policy (they all should pass)."""
    sanitizer = Sanitizer()
    values = ordinary_values(n)
    changed: dict[str, int] = {}
    for key, value in values:
        if sanitizer.scrub({key: value}).properties.get(key) != value:
            changed[key] = changed.get(key, 0) + 1
    rate = sum(changed.values()) / len(values)
    return {
        "name": "false_positive_rate_ordinary_values",
        "unit": "ratio",
        "median": round(rate, 4),
        "n": len(values),
        "changed_by_key": changed,
        "target": 0.01,
        "meets_target": rate <= 0.01,
        "note": "seeded timestamps, event and order ids, versions, prices, specialties, states, "
        "countries, ZIP3, years, durations and user agents under their usual keys",
    }


def strings_of(props: dict[str, Any]) -> list[str]:
    return [v for v in props.values() if isinstance(v, str)]


def peer_presidio(events: list[dict[str, Any]]) -> dict[str, Any]:
    if version("presidio-analyzer") is None:
        return {"median": None, "version": None, "note": "not installed"}
    import tldextract.tldextract as tld
    from presidio_analyzer import predefined_recognizers as rec

    # Presidio's email recognizer asks tldextract, which downloads the public suffix list on
    # first use; use the snapshot bundled with tldextract so nothing leaves the machine.
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None)

    # No spaCy model can be downloaded offline, so no NlpEngine (and no PERSON/LOCATION NER):
    # Presidio's pattern recognizers only, called directly.
    recognizers = [
        rec.EmailRecognizer(),
        rec.PhoneRecognizer(),
        rec.UsSsnRecognizer(),
        rec.CreditCardRecognizer(),
        rec.IpRecognizer(),
        rec.DateRecognizer(),
        rec.UrlRecognizer(),
        rec.IbanRecognizer(),
        rec.MedicalLicenseRecognizer(),
        rec.UsLicenseRecognizer(),
    ]

    def detect(i: int) -> None:
        for text in strings_of(events[i]):
            for r in recognizers:
                r.analyze(text, r.supported_entities, None)

    samples = per_call(detect, len(events))
    return {
        "median": round(statistics.median(samples), 3),
        "p99": summarise(samples)["p99"],
        "version": version("presidio-analyzer"),
        "note": "pattern recognizers only (email, phone, SSN, card, IP, date, URL, IBAN, "
        "licences); spaCy NER unavailable offline, so names and places are not detected",
    }


def peer_scrubadub(events: list[dict[str, Any]]) -> dict[str, Any]:
    if version("scrubadub") is None:
        return {"median": None, "version": None, "note": "not installed"}
    import scrubadub

    scrubber = scrubadub.Scrubber()

    def detect(i: int) -> None:
        for text in strings_of(events[i]):
            scrubber.clean(text)

    samples = per_call(detect, len(events))
    return {
        "median": round(statistics.median(samples), 3),
        "p99": summarise(samples)["p99"],
        "version": version("scrubadub"),
        "note": "default detectors, clean() on every string value",
    }


# -- 3. pseudonymisation ---------------------------------------------------------------------------
def bench_pseudonymize(n: int) -> dict[str, Any]:
    p = HmacPseudonymizer(KEY)
    samples = per_call(lambda i: p.pseudonymize(f"user-{i}"), n)
    return {"name": "pseudonymize_cost", "unit": "us", **summarise(samples),
            "note": "HMAC-SHA256 of a new id (cache miss), on the sender thread"}  # fmt: skip


# -- 4. delivered throughput -----------------------------------------------------------------------
def _deliver(providers: list[Any], n: int) -> tuple[float, bool, int]:
    client = client_for(
        providers,
        max_queue_events=n + 10,
        max_queue_bytes=512 * 1024 * 1024,
        flush_interval=0.05,
    )
    events = typical_events(1000)
    start = time.perf_counter()
    for i in range(n):
        client.track("appointment_booked", events[i % 1000], user_id=f"user-{i % 500}")
    drained = client.flush(timeout=300)
    elapsed = time.perf_counter() - start
    dropped = client.metrics().dropped_total
    client.shutdown(timeout=10)
    return n / elapsed, drained, dropped


def bench_throughput(n: int) -> list[dict[str, Any]]:
    sinks = Sinks(0.05)
    makers = {
        "posthog": lambda: PostHogProvider("phc_test_key", base_url=sinks.posthog),
        "mixpanel": lambda: MixpanelProvider(
            "1234567", "mp-service-secret", service_account="sa.user", base_url=sinks.mixpanel
        ),
        "amplitude": lambda: AmplitudeProvider("amp-api-key", base_url=sinks.amplitude),
    }
    rates: dict[str, float] = {}
    ok = True
    for name, make in makers.items():
        rate, drained, dropped = _deliver([make()], n)
        rates[name] = round(rate, 1)
        ok = ok and drained and dropped == 0
    together, drained, dropped = _deliver([make() for make in makers.values()], n)
    received = sinks.close()
    ok = ok and received == [2 * n] * 3
    slowest = min(rates.values())
    return [
        {
            "name": "delivered_throughput_per_provider",
            "unit": "ops/s",
            "median": slowest,
            "p95": None,
            "p99": None,
            "n": n,
            "target": 10_000,
            "meets_target": ok and slowest >= 10_000,
            "per_provider": rates,
            "note": "one provider per client, vendor 50 ms away (loopback, separate process); "
            "median is the slowest provider; includes producing the events with track()",
        },
        {
            "name": "delivered_throughput_three_providers_at_once",
            "unit": "ops/s",
            "median": round(together, 1),
            "p95": None,
            "p99": None,
            "n": n,
            "note": "the same events fanned out to all three providers by one client (per "
            f"provider rate); dropped {dropped}, received per vendor {received}",
        },
    ]


# -- 5. shutdown -----------------------------------------------------------------------------------
def bench_shutdown(rounds: int) -> dict[str, Any]:
    sinks = Sinks(0.05)
    samples: list[float] = []
    lost = 0
    timed_out = False
    for _ in range(rounds):
        client = client_for(
            [PostHogProvider("phc_test_key", base_url=sinks.posthog)], flush_interval=30
        )
        for i in range(2000):
            client.track("appointment_booked", {"n": i}, user_id=f"user-{i % 50}")
        start = time.perf_counter()
        report = client.shutdown(timeout=5)
        samples.append((time.perf_counter() - start) * 1000)
        lost += report.lost
        timed_out |= report.timed_out
    received = sinks.close()[0]
    return {
        "name": "shutdown_2000_queued",
        "unit": "ms",
        **summarise(samples),
        "target": {"lost": 0, "deadline_ms": 5000},
        "meets_target": lost == 0 and not timed_out and received == 2000 * rounds,
        "note": f"reachable sink 50 ms away; lost {lost}, vendor received {received}",
    }


# -- 6. fault soak (opt-in: --soak) ----------------------------------------------------------------
SOAK_SINK = """
import sys
from unified_health.analytics.testing import FakePostHog

class Outage(FakePostHog):
    fault = None

    def handle(self, path, query, headers, body):
        if self.fault == "500":
            return (500, {"type": "server_error"}, {}), []
        if self.fault == "429":
            return (429, {"type": "throttled"}, {"Retry-After": "2"}), []
        if self.fault == "slow":
            self._stop.wait(3.0)
            return (503, {"type": "timeout"}, {}), []
        return super().handle(path, query, headers, body)

vendor = Outage(latency=0.05)
print(vendor.url, flush=True)
for line in sys.stdin:
    command = line.split()
    if command[0] == "fault":
        vendor.fault = None if command[1] == "none" else command[1]
    print(len(vendor.events), vendor.duplicates, flush=True)
"""


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bench_soak(fault: str, outage: float, durable: bool) -> dict[str, Any]:
    """Paced track() calls through a vendor outage with the Redis spill store."""
    import uuid

    try:
        import redis
    except ImportError:
        return {"name": f"soak_{fault}", "note": "the redis extra is not installed"}

    from unified_health.analytics import RedisSpillStore

    url = os.environ.get("UH_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis_client = redis.Redis.from_url(url)
    try:
        redis_client.ping()
    except redis.RedisError as exc:
        return {"name": f"soak_{fault}", "note": f"Redis not reachable ({type(exc).__name__})"}
    prefix = "{soak-" + uuid.uuid4().hex[:8] + "}"
    spill = RedisSpillStore(redis_client, prefix=prefix)
    sink = subprocess.Popen(
        [sys.executable, "-c", SOAK_SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdin is not None
    assert sink.stdout is not None
    vendor_url = sink.stdout.readline().strip()

    def command(text: str) -> tuple[int, int]:
        assert sink.stdin is not None
        assert sink.stdout is not None
        sink.stdin.write(text + "\n")
        sink.stdin.flush()
        received, duplicates = sink.stdout.readline().split()
        return int(received), int(duplicates)

    client = client_for(
        [PostHogProvider("phc_test_key", base_url=vendor_url, timeout=2.0)],
        spill_store=spill,
        durable=durable,
    )
    events = typical_events(1000)
    rate = 2000
    step = 1 / rate
    during: list[float] = []
    unbalanced = 0
    peak_rss = _rss_mb()
    peak_memory_events = 0
    i = 0

    def run_for(seconds: float, samples: list[float] | None) -> None:
        nonlocal i, unbalanced, peak_rss, peak_memory_events
        clock = time.perf_counter
        end = clock() + seconds
        due = clock()
        while clock() < end:
            due += step
            start = time.perf_counter_ns()
            client.track("appointment_booked", events[i % 1000], user_id=f"user-{i % 500}")
            took = (time.perf_counter_ns() - start) / 1000
            if samples is not None:
                samples.append(took)
            i += 1
            if i % 1000 == 0:
                status = client.delivery_status()["posthog"]
                unbalanced += int(status.unaccounted != 0)
                peak_memory_events = max(peak_memory_events, status.queued + status.in_flight)
                peak_rss = max(peak_rss, _rss_mb())
            while clock() < due:
                if due - clock() > 0.001:
                    time.sleep(0.0005)

    run_for(5.0, None)
    command(f"fault {fault}")
    run_for(outage, during)
    command("fault none")
    recovered = time.perf_counter()
    run_for(5.0, None)
    accepted = client.delivery_status()["posthog"].accepted
    drained_after = None
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        client.flush(1)
        status = client.delivery_status()["posthog"]
        if spill.size("posthog") == 0 and not status.queued and not status.in_flight:
            drained_after = round(time.perf_counter() - recovered, 1)
            break
    status = client.delivery_status()["posthog"]
    report = client.shutdown(timeout=10)
    received, duplicates = command("fault none")
    sink.stdin.close()
    try:
        sink.wait(10)
    except subprocess.TimeoutExpired:
        sink.kill()
        sink.wait(10)
    left = spill.size("posthog")
    for key in redis_client.scan_iter(match=prefix + "*"):
        redis_client.delete(key)
    lost = accepted - received - left
    return {
        "name": f"soak_{fault}_{int(outage)}s" + ("_durable" if durable else ""),
        "unit": "us",
        **summarise(during),
        "target": {"lost": 0, "queue_full": 0, "drained_within_s": 10, "p99_us": 250},
        "meets_target": lost == 0
        and "queue_full" not in status.dropped
        and drained_after is not None
        and drained_after <= 10 + 5,
        "accepted": accepted,
        "received_by_vendor": received,
        "duplicates_at_vendor": duplicates,
        "left_in_spill": left,
        "lost": lost,
        "dropped": dict(status.dropped),
        "spilled": status.spilled,
        "replayed": status.replayed,
        "unbalanced_snapshots": unbalanced,
        "peak_in_memory_events": peak_memory_events,
        "peak_rss_mb": round(peak_rss, 1),
        "drained_s_after_recovery": drained_after,
        "shutdown_lost": report.lost,
        "note": f"track() at {rate}/s, {outage:.0f} s of {fault} from a loopback PostHog fake "
        "(50 ms away), Redis spill store; latency figures are track() during the outage; "
        "drain time counts from recovery (5 s of traffic continue after it)",
    }


def main() -> None:
    # The one JSON object goes to stdout; the library's logs (and the peers') go to stderr.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (seconds)")
    parser.add_argument("--soak", action="store_true", help="a vendor-outage soak instead")
    parser.add_argument("--fault", choices=["500", "429", "slow"], default="500")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds of outage")
    parser.add_argument("--durable", action="store_true", help="the client in durable mode")
    args = parser.parse_args()
    quick = args.quick
    if args.soak:
        outage = min(args.outage, 5.0) if quick else args.outage
        row = bench_soak(args.fault, outage, args.durable)
        print(json.dumps({"package": "uh-analytics", "soak": True, "results": [row]}, indent=2))
        return
    results = [
        *bench_track(2_000 if quick else 20_000, 1_000 if quick else 10_000),
        bench_detection(300 if quick else 3_000),
        bench_worst_case(4_096 if quick else 65_536),
        bench_holdout(),
        bench_false_positives(2_000 if quick else 20_000),
        bench_fuzz(500 if quick else 2_000),
        bench_pseudonymize(2_000 if quick else 20_000),
        *bench_throughput(3_000 if quick else 40_000),
        bench_shutdown(1 if quick else 5),
    ]
    print(
        json.dumps(
            {
                "package": "uh-analytics",
                "version": version("uh-analytics"),
                "python": platform.python_version(),
                "machine": {"cpus": os.cpu_count() or 1, "platform": platform.platform()},
                "quick": quick,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
