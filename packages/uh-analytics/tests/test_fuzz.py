"""A seeded fuzz: thousands of events, and no raw identifier in any outbound payload."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable

from unified_health.analytics import (
    AmplitudeProvider,
    AnalyticsClient,
    MixpanelProvider,
    PostHogProvider,
    RecordingTransport,
    analytics_context,
)

Make = Callable[..., AnalyticsClient]
WORDS = ["cardiology", "booked", "viewed", "portal", "mobile", "web", "premium", "basic"]
FIRST = ["jane", "omar", "li", "sofia", "kwame", "anna"]
INVISIBLE = ["", "\u200b", "\u200d", "\u2060", "\ufeff"]


def _hide(rng: random.Random, text: str) -> str:
    """Spread invisible characters through ``text``."""
    return "".join(c + rng.choice(INVISIBLE) for c in text)


def _spelled(rng: random.Random, email: str) -> str:
    """The same address as people obfuscate it."""
    local, domain = email.split("@")
    at = rng.choice([" at ", " [at] ", "(at)", " @ ", " AT "])
    dot = rng.choice([" dot ", " [dot] ", "(dot)", "."])
    return local + at + domain.replace(".", dot)


def test_no_identifier_in_any_form_reaches_a_vendor(make_client: Make) -> None:
    """A seeded fuzz of identifier forms (obfuscated e-mails, invisible characters, dates in
    prose and labels, unusual phone groupings, deep REST ids, names after a role word, in
    prose, labels, keys and event names): none reaches Mixpanel, Amplitude or PostHog."""
    rng = random.Random(20261206)
    transports = [RecordingTransport() for _ in range(3)]
    client = make_client(
        [MixpanelProvider("42", "secret", transport=transports[0]),
         AmplitudeProvider("key", transport=transports[1]),
         PostHogProvider("phc", transport=transports[2])],
        max_queue_events=20_000,
    )  # fmt: skip
    secrets: set[str] = set()
    for n in range(2000):
        first = rng.choice([*FIRST, "olivia", "marcus", "priya"])
        surname = rng.choice(["Brennan", "Okafor", "Lindqvist", "Haddad"])
        email = f"{first}.{rng.randrange(10**5)}@example.org"
        ssn = f"{rng.randrange(100, 899)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
        phone = " ".join(str(rng.randrange(10, 99)) for _ in range(5))
        day = f"{rng.randrange(1, 12)}/{rng.randrange(10, 28)}/'{rng.randrange(40, 99)}"
        record = str(rng.randrange(10**8, 10**9))
        secrets.update({email.split("@")[0], ssn, phone, day, record, surname})
        forms = [
            {"note": f"Patient {first.title()} {surname} said it hurts since {day}"},
            {"contact": _spelled(rng, email)},
            {"ref": _hide(rng, ssn)},
            {"phone_alt": phone},
            {"page": f"/api/v2/clinics/{rng.randrange(9)}/rooms/x/records/{record}/notes"},
            {"caption": f"Patient {first.title()} {surname}"},
            {"seen": f"seen {day}"},
        ]
        props: dict[str, object] = {"n": n, **rng.choice(forms)}
        if rng.random() < 0.05 and first != "li":
            # A key holding a name: caught by the given name (a surname alone in a lower-case
            # key needs a registered vocabulary, see the docs).
            props[f"note_for_{first}_{surname.lower()}"] = 1
        name = "page_viewed" if rng.random() < 0.95 else f"viewed {first} {surname} chart"
        client.track(name, props, user_id=f"u-{n}")
    assert client.flush(30)
    payload = json.dumps([r.payload for t in transports for r in t.requests], ensure_ascii=False)
    assert len(payload) > 100_000
    leaked = sorted(s for s in secrets if s in payload)
    assert leaked == [], leaked[:5]


def test_no_raw_identifier_leaves_under_a_seeded_fuzz(make_client: Make) -> None:
    rng = random.Random(20260105)
    transports = [RecordingTransport() for _ in range(3)]
    client = make_client(
        [
            MixpanelProvider("42", "secret", transport=transports[0]),
            AmplitudeProvider("key", transport=transports[1]),
            PostHogProvider("phc", transport=transports[2]),
        ],
        max_queue_events=20_000,
    )
    secrets: set[str] = set()
    for n in range(3000):
        uid = f"pt-{rng.getrandbits(40):x}"
        anon = f"dev-{rng.getrandbits(40):x}"
        clinic = f"clinic-{rng.getrandbits(24):x}"
        email = f"{rng.choice(FIRST)}.{rng.randrange(10**6)}@example.org"
        phone = f"(555) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"
        secrets.update({uid, anon, clinic, email})
        mode = rng.randrange(5)
        # The client guarantees the event's own identifiers never leave; other identifiers in
        # free text are the sanitiser's (emails and phone numbers here).
        own = [anon, clinic] if mode == 0 else [uid, anon] if mode == 1 else [uid, clinic]
        props: dict[str, object] = {"n": n, "kind": rng.choice(WORDS)}
        for _ in range(rng.randrange(0, 6)):
            choice = rng.randrange(6)
            key = f"{rng.choice(WORDS)}_{rng.randrange(9)}"
            props[key] = [
                f"opened by {rng.choice(own)}",
                f"contact {email}",
                f"call {phone}",
                {"nested": f"{rng.choice(own)}/x"},
                [rng.choice(own), rng.choice(WORDS)],
                rng.random(),
            ][choice]
        if mode == 0:
            client.track("page_viewed", props, anonymous_id=anon, groups={"clinic": clinic})
        elif mode == 1:
            with analytics_context(user_id=uid, anonymous_id=anon):
                client.track("page_viewed", props)
        elif mode == 2:
            client.identify(uid, {"plan": rng.choice(WORDS), "contact": email})
        elif mode == 3:
            client.alias(anon, uid)
        else:
            client.track("appointment_booked", props, user_id=uid, groups={"clinic": clinic})
    assert client.flush(30)
    payload = json.dumps([r.payload for t in transports for r in t.requests])
    assert len(payload) > 100_000
    # Every secret has a recognisable shape: collect those tokens once, then compare.
    tokens = set(re.findall(r"(?:pt|dev|clinic)-[0-9a-f]+|[a-z]+\.\d+@example\.org", payload))
    leaked = sorted(secrets & tokens)
    assert leaked == [], leaked[:5]
    assert "(555)" not in payload
    m = client.metrics()
    assert m.enqueued == 3000
    assert m.dropped_total == m.dropped.get("unsupported_by_provider", 0)
