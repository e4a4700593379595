"""Benchmark of uh-knowledge-base: relevance and speed, with MiniSearch and Fuse.js side by side.

Run with ``nox -s bench -- knowledge-base [--quick]``; prints one JSON object (the family shape).

Corpus: the package's English default articles plus generated help-centre pages around the same
topics (clinic location pages, procedure preparation pages, clinician profiles, insurance plan
pages, portal release notes, classes and clinic policies), about 2,000 in all, from a fixed seed.
The generated pages share the default articles' vocabulary on purpose: they are the distractors.

Figures:

1. ``relevance_mrr10`` and ``relevance_recall5``: MRR@10 and Recall@5 over the labelled queries
   (typos, synonyms, partial words, questions). The queries and their answers were written before
   any ranking was tuned. Recall@5 divides by ``min(relevant, 5)``. MiniSearch (BM25+, fuzzy 0.2,
   prefix, field boosts) and Fuse.js (weighted keys, threshold 0.4, ignoreLocation) run on the
   same documents and queries through Node.js, installed with npm into a cache folder; without
   node or npm (and in ``--quick``) they are skipped with a note.
2. ``relevance_holdout_mrr10``: MRR@10 on a second set of queries that was never used for tuning.
3. ``search_latency_2000`` and ``search_latency_10000``: time per query (the labelled queries),
   through `KnowledgeBaseService.search` with no cache, so every query is computed.
4. ``index_build_10000``: building the search index of 10,000 articles.
5. ``incremental_upsert_10000``: `SearchIndex.upsert` of one changed article into that index.
6. ``render_sanitise``: Markdown to sanitised HTML, per default article.

Latency rows also carry ``cpu_median`` / ``cpu_p95`` (this process's CPU time per query), and
the report the one-minute load average, because the figures are often taken on shared machines.

``ratio_to`` is the peer's figure divided by ours (for latency: above 1 means we are faster; for
relevance: below 1 means we rank better).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from unified_health.knowledge_base import (
    Article,
    InMemoryArticleStore,
    KnowledgeBaseService,
    Renderer,
    SearchIndex,
)
from unified_health.knowledge_base._text import plain_text

PACKAGE = "uh-knowledge-base"
SEED = 20260105
NPM_PEERS = {"minisearch": "7", "fuse.js": "7"}

TUNING_QUERIES: list[tuple[str, tuple[str, ...]]] = [
    ("perscription refil", ("requesting-a-prescription-refill",)),
    ("reset pasword", ("resetting-your-password",)),
    ("insurence card", ("updating-your-insurance-information",)),
    ("vidoe visit", ("joining-a-video-visit", "preparing-for-a-video-visit")),
    ("lab reslts", ("viewing-lab-results",)),
    ("appointmnet reminder", ("appointment-reminders",)),
    ("cancle appointment", ("rescheduling-or-cancelling-an-appointment",)),
    ("payment plan instalments", ("setting-up-a-payment-plan",)),
    ("two step verfication", ("turning-on-two-step-verification",)),
    ("microphne not working", ("fixing-camera-and-microphone-problems",)),
    ("pharmcy change", ("changing-your-pharmacy",)),
    ("screan reader", ("using-the-portal-with-a-screen-reader",)),
    ("medcal records copy", ("requesting-a-copy-of-your-records",)),
    ("refund overpaymnet", ("requesting-a-refund-or-disputing-a-charge",)),
    ("chek in online", ("checking-in-online",)),
    ("interpeter for video visit", ("captions-and-interpreters-in-video-visits",)),
    ("telehealth", ("preparing-for-a-video-visit", "joining-a-video-visit")),
    ("rx renewal", ("requesting-a-prescription-refill",)),
    ("login problems", ("trouble-signing-in",)),
    ("invoice explained", ("understanding-your-statement",)),
    ("2fa", ("turning-on-two-step-verification",)),
    ("bloodwork results", ("viewing-lab-results",)),
    (
        "virtual visit webcam",
        ("fixing-camera-and-microphone-problems", "preparing-for-a-video-visit"),
    ),
    ("caregiver access", ("giving-a-caregiver-proxy-access",)),
    ("delete my account", ("closing-your-account",)),
    ("drugstore", ("changing-your-pharmacy",)),
    ("coverage update", ("updating-your-insurance-information",)),
    ("secure message doctor", ("messaging-your-care-team",)),
    (
        "presc",
        (
            "requesting-a-prescription-refill",
            "checking-prescription-status",
            "viewing-your-medication-list",
        ),
    ),
    ("passw", ("resetting-your-password",)),
    ("resched", ("rescheduling-or-cancelling-an-appointment",)),
    ("insur", ("updating-your-insurance-information", "estimating-your-costs")),
    ("payment pl", ("setting-up-a-payment-plan",)),
    ("hipa", ("your-privacy-rights-under-hipaa",)),
    ("caption", ("captions-and-interpreters-in-video-visits",)),
    ("attach phot", ("sending-photos-and-documents",)),
    ("text si", ("changing-text-size-and-contrast",)),
    ("how do i reset my password", ("resetting-your-password",)),
    ("why can't i log in", ("trouble-signing-in",)),
    ("how do i pay my bill", ("paying-your-bill",)),
    (
        "when will my test results be ready",
        ("why-a-result-is-not-showing-yet", "viewing-lab-results"),
    ),
    ("how long until the doctor replies to my message", ("when-to-expect-a-reply",)),
    (
        "can my daughter see my records",
        ("giving-a-caregiver-proxy-access", "who-can-see-your-information"),
    ),
    ("what does my statement mean", ("understanding-your-statement",)),
    ("how much will my visit cost", ("estimating-your-costs",)),
    ("how do i change my phone number", ("updating-your-contact-details",)),
    ("my video keeps freezing", ("when-your-video-visit-connection-is-poor",)),
    ("who can see my health information", ("who-can-see-your-information",)),
    ("how do i get a copy of my medical records", ("requesting-a-copy-of-your-records",)),
    (
        "can i bring an interpreter to my video visit",
        ("captions-and-interpreters-in-video-visits", "inviting-a-family-member-to-a-video-visit"),
    ),
    ("how do i book an appointment", ("booking-an-appointment",)),
    ("is the app on android", ("using-the-mobile-app",)),
    ("dark mode", ("changing-text-size-and-contrast",)),
    ("parking riverside cardiology", ("gen:visiting-riverside-cardiology",)),
    ("preparing for mri", ("gen:prep:mri",)),
    ("colonoscopy preparation", ("gen:prep:colonoscopy",)),
    ("hours lakeview pediatrics", ("gen:visiting-lakeview-pediatrics",)),
    ("mammogram what to bring", ("gen:prep:mammogram",)),
    ("maple dermatology directions", ("gen:visiting-maple-dermatology",)),
    ("allergy testing prep", ("gen:prep:allergy-testing",)),
    ("northgate urgent care parking", ("gen:visiting-northgate-urgent-care",)),
]

# Never looked at while tuning: scored once, reported on its own.
HOLDOUT_QUERIES: list[tuple[str, tuple[str, ...]]] = [
    ("my prescription isnt ready at the pharmacy", ("checking-prescription-status",)),
    ("acount locked", ("trouble-signing-in",)),
    ("forgot username", ("resetting-your-password",)),
    ("e-visit sound problems", ("fixing-camera-and-microphone-problems",)),
    ("coinsurance deductible estimate", ("estimating-your-costs",)),
    ("upload a document", ("sending-photos-and-documents",)),
    ("financial assistance", ("setting-up-a-payment-plan",)),
    ("notice of privacy practices", ("your-privacy-rights-under-hipaa",)),
    ("text message reminders stopped", ("appointment-reminders",)),
    ("guest link video appointment", ("inviting-a-family-member-to-a-video-visit",)),
    ("result out of range", ("viewing-lab-results",)),
    ("medication list allergies", ("viewing-your-medication-list",)),
    ("how do i activate my portal account", ("getting-started-with-the-patient-portal",)),
    ("sign language", ("captions-and-interpreters-in-video-visits",)),
    ("wrong charge on my bill", ("requesting-a-refund-or-disputing-a-charge",)),
    ("new insurance plan", ("updating-your-insurance-information",)),
    ("face id", ("using-the-mobile-app",)),
    ("download results pdf", ("sharing-or-downloading-results",)),
    ("slow internet video call", ("when-your-video-visit-connection-is-poor",)),
    ("prepare for ct scan", ("gen:prep:ct-scan",)),
    ("cedar orthopedics address", ("gen:visiting-cedar-orthopedics",)),
]

LOCATIONS = [
    "Riverside",
    "Lakeview",
    "Maple",
    "Northgate",
    "Cedar",
    "Hillcrest",
    "Oakwood",
    "Pinecrest",
    "Brookside",
    "Westfield",
    "Eastport",
    "Southbend",
    "Harbor",
    "Meadow",
    "Summit",
    "Valley",
    "Fairview",
    "Greenwood",
    "Kingston",
    "Lincoln",
    "Madison",
    "Parkside",
    "Springfield",
    "Willow",
]
DEPARTMENTS = [
    "Family Medicine",
    "Pediatrics",
    "Cardiology",
    "Dermatology",
    "Orthopedics",
    "Urgent Care",
    "Women's Health",
    "Neurology",
    "Oncology",
    "Endocrinology",
    "Physical Therapy",
    "Behavioral Health",
]
PROCEDURES = [
    "MRI",
    "CT scan",
    "X-ray",
    "ultrasound",
    "mammogram",
    "colonoscopy",
    "allergy testing",
    "blood draw",
    "sleep study",
    "stress test",
    "bone density scan",
    "physical exam",
    "vaccination",
    "hearing test",
]
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Kim",
    "Luis",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
]
LAST = [
    "Alvarez",
    "Brooks",
    "Cohen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Johnson",
    "Khan",
    "Lopez",
    "Moreau",
    "Nguyen",
    "Okafor",
    "Patel",
    "Reyes",
    "Smith",
    "Tanaka",
    "Walsh",
]
CLASSES = [
    "Diabetes education",
    "Prenatal yoga",
    "Quit smoking",
    "Healthy cooking",
    "Back care",
    "New parents",
    "Caregiver support",
    "Mindfulness",
    "Walking group",
    "Heart health",
]
PLANS = [
    "Blue Ridge",
    "Evergreen",
    "Keystone",
    "Liberty",
    "Northstar",
    "Pacific",
    "Prairie",
    "Sunrise",
    "Tidewater",
    "Union",
]
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
FEATURES = [
    "Refill requests now show which pharmacy will receive the prescription.",
    "Video visits start faster and show your connection quality before you join.",
    "You can attach up to five photos to a message to your care team.",
    "Statements can be paid with Apple Pay and Google Pay in the app.",
    "Password reset links now expire after 30 minutes for your security.",
    "Lab results show the reference range next to each value.",
    "Appointment reminders can be confirmed with a reply to the text message.",
    "Screen reader labels were improved on the billing pages.",
    "Caregivers with proxy access can now request refills.",
    "Online check-in opens three days before your appointment.",
    "Two-step verification supports authenticator apps.",
    "Insurance cards can be photographed from the app.",
]
POLICY_TOPICS = [
    (
        "phone lines and after-hours care",
        "Call the clinic for urgent questions after hours. "
        "Messages and refill requests sent at night are read the next business day.",
    ),
    (
        "late arrivals",
        "If you arrive more than 15 minutes late, we may ask you to reschedule "
        "your appointment. Video visits follow the same rule.",
    ),
    (
        "paperwork and forms",
        "Bring your insurance card and photo ID. Forms can be completed "
        "during online check-in or at the front desk.",
    ),
    (
        "billing contacts",
        "Questions about a statement or a charge go to the billing office. "
        "Payment plans are available for larger balances.",
    ),
    (
        "visitor policy",
        "One adult may come with you. Children must be accompanied. Guests can "
        "also join video visits with a link.",
    ),
    (
        "languages spoken",
        "Staff speak several languages and interpreters are free. Ask when you "
        "book your appointment.",
    ),
]


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _article(slug: str, title: str, category: str, tags: list[str], body: str) -> Article:
    return Article(
        slug=slug,
        title=title,
        category=category,
        tags=tuple(tags),
        updated=date(2026, 1, 5),
        body=body,
    )


def _location_page(loc: str, dept: str, rng: random.Random) -> Article:
    hours = rng.choice(["8 a.m. to 5 p.m.", "7 a.m. to 7 p.m.", "9 a.m. to 6 p.m."])
    garage = rng.choice(
        ["the garage on", "the surface lot behind the building on", "street parking on"]
    )
    road = rng.choice(["Main", "Elm", "Park", "High", "Mill"])
    street = f"{rng.randint(10, 990)} {road} Street"
    body = (
        f"## Hours\n\n{loc} {dept} is open Monday to Friday, {hours}. Appointments can be booked "
        f"online or by phone, and many visits are also offered as video visits.\n\n"
        f"## Address and directions\n\nThe clinic is at {street}. Public transport stops "
        f"nearby.\n\n"
        f"## Parking\n\nUse {garage} {street.split(' ', 1)[1]}. Parking is validated at the front "
        f"desk.\n\n## Before you come\n\nCheck in online to save time, and bring your insurance "
        f"card and a list of your medications."
    )
    return _article(
        f"visiting-{_slug(loc)}-{_slug(dept)}",
        f"Visiting {loc} {dept}: hours, parking and directions",
        "appointments",
        ["location", "parking", "hours", _slug(dept)],
        body,
    )


def _prep_page(proc: str, loc: str, rng: random.Random) -> Article:
    early = rng.choice([10, 15, 20, 30])
    body = (
        f"## Before your {proc}\n\nFollow the preparation instructions your clinician gave you; "
        f"they are also attached to the appointment in the portal. Arrive {early} minutes early "
        f"at {loc} and check in at imaging and procedures.\n\n## What to bring\n\nBring your "
        f"insurance card, photo ID and the order from your clinician if you have a paper copy.\n\n"
        f"## Results\n\nResults appear under Test results once they are final. Your clinician "
        f"will contact you about next steps.\n\n## Changing the appointment\n\nReschedule online "
        f"up to 24 hours before, or call the scheduling team."
    )
    return _article(
        f"preparing-for-{_slug(proc)}-at-{_slug(loc)}",
        f"Preparing for your {proc} at {loc}",
        "visits",
        [_slug(proc), "preparation", "procedure"],
        body,
    )


def _profile(rng: random.Random, n: int) -> Article:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    dept, loc = rng.choice(DEPARTMENTS), rng.choice(LOCATIONS)
    langs = ", ".join(
        rng.sample(["English", "Spanish", "Mandarin", "Arabic", "French", "Hindi"], 2)
    )
    body = (
        f"Dr. {first} {last} sees patients in {dept} at {loc}. Languages: {langs}.\n\n"
        f"## Booking\n\nBook an appointment online, choose a video visit when offered, or send "
        f"a secure message to the care team with questions about an upcoming visit.\n\n"
        f"## Approach\n\n{rng.choice(APPROACHES)}"
    )
    return _article(
        f"dr-{_slug(first)}-{_slug(last)}-{n}",
        f"Dr. {first} {last}, {dept}",
        "getting-started",
        ["clinician", _slug(dept)],
        body,
    )


def _plan(name: str, tier: str) -> Article:
    body = (
        f"## Coverage\n\nWe accept {name} {tier} at every clinic. Bring your insurance card to "
        f"each visit and keep your member ID up to date in your account.\n\n## Costs\n\nYour "
        f"copay and deductible depend on your plan. Some services need prior authorization from "
        f"{name}; our billing team requests it for you."
    )
    return _article(
        f"{_slug(name)}-{_slug(tier)}-coverage",
        f"Using {name} {tier} coverage",
        "insurance",
        ["insurance", "plan", _slug(name)],
        body,
    )


def _release(month: str, year: int, rng: random.Random) -> Article:
    items = "\n".join(f"- {item}" for item in rng.sample(FEATURES, 4))
    return _article(
        f"whats-new-{_slug(month)}-{year}",
        f"What's new in the portal: {month} {year}",
        "getting-started",
        ["release notes", "updates"],
        f"## New this month\n\n{items}",
    )


def _class(name: str, loc: str, rng: random.Random, n: int) -> Article:
    day = rng.choice(["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Saturdays"])
    body = (
        f"{name} meets on {day} at {loc}, in person and online by video. Register from "
        f"**Visits > Classes**; the class is free for patients.\n\n## What to expect\n\nA small "
        f"group led by a nurse educator. Bring questions; no medical records are shared in class."
    )
    return _article(
        f"{_slug(name)}-class-{_slug(loc)}-{n}",
        f"{name} class at {loc}",
        "getting-started",
        ["class", "community"],
        body,
    )


def _policy(loc: str, dept: str, topic: tuple[str, str], n: int) -> Article:
    return _article(
        f"{_slug(loc)}-{_slug(dept)}-{_slug(topic[0])}-{n}",
        f"{loc} {dept}: {topic[0]}",
        "getting-started",
        ["policy", _slug(loc)],
        f"## {topic[0].capitalize()}\n\n{topic[1]}",
    )


APPROACHES = [
    "Listens first and explains options clearly.",
    "Works closely with nurses and pharmacists.",
    "Focuses on prevention and follow-up.",
]


def corpus(size: int, defaults: list[Article]) -> list[Article]:
    """The default English articles plus generated pages, ``size`` in all (seeded)."""
    rng = random.Random(SEED)
    articles = list(defaults)
    articles.extend(_location_page(loc, dept, rng) for loc in LOCATIONS for dept in DEPARTMENTS)
    articles.extend(_prep_page(proc, loc, rng) for proc in PROCEDURES for loc in LOCATIONS)
    articles.extend(_plan(name, tier) for name in PLANS for tier in TIERS)
    articles.extend(
        _release(month, year, rng) for year in (2022, 2023, 2024, 2025, 2026) for month in MONTHS
    )
    n = 0
    makers = [
        lambda: _profile(rng, n),
        lambda: _class(rng.choice(CLASSES), rng.choice(LOCATIONS), rng, n),
        lambda: _policy(
            rng.choice(LOCATIONS), rng.choice(DEPARTMENTS), rng.choice(POLICY_TOPICS), n
        ),
    ]
    while len(articles) < size:
        n += 1
        articles.append(rng.choice(makers)())
    return articles[:size]


def relevant_ids(labels: tuple[str, ...], ids: list[str]) -> set[str]:
    found: set[str] = set()
    for label in labels:
        if label.startswith("gen:prep:"):
            found |= {i for i in ids if i.startswith(f"en/preparing-for-{label[9:]}-at-")}
        elif label.startswith("gen:"):
            found.add(f"en/{label[4:]}")
        else:
            found.add(f"en/{label}")
    return found


def score(
    ranked: list[list[str]], queries: list[tuple[str, tuple[str, ...]]], ids: list[str]
) -> tuple[float, float]:
    reciprocal, recall = [], []
    for hits, (_, labels) in zip(ranked, queries, strict=True):
        wanted = relevant_ids(labels, ids)
        rank = next((i for i, hit in enumerate(hits[:10], 1) if hit in wanted), None)
        reciprocal.append(1.0 / rank if rank else 0.0)
        recall.append(len(wanted & set(hits[:5])) / min(len(wanted), 5))
    return statistics.fmean(reciprocal), statistics.fmean(recall)


def _service(articles: list[Article]) -> KnowledgeBaseService:
    store = InMemoryArticleStore()
    for article in articles:
        store.put(article)
    kb = KnowledgeBaseService(storage=store, cache=None)
    kb.load_default_articles()  # categories; the default articles are already there
    kb.refresh()
    return kb


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _timing(values: list[float]) -> dict[str, float | int]:
    return {
        "median": statistics.median(values),
        "p95": _percentile(values, 0.95),
        "p99": _percentile(values, 0.99),
        "n": len(values),
    }


def _row(
    name: str,
    unit: str,
    values: dict[str, Any],
    *,
    target: float | None,
    meets: bool | None,
    peers: dict[str, dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    peers = peers or {}
    ratio = {
        peer: round(data["median"] / values["median"], 2)
        for peer, data in peers.items()
        if data.get("median") and values["median"]
    }
    return {
        "name": name,
        "unit": unit,
        "median": round(values["median"], 4),
        "p95": None if values.get("p95") is None else round(values["p95"], 4),
        "p99": None if values.get("p99") is None else round(values["p99"], 4),
        "n": values["n"],
        "peers": peers,
        "ratio_to": ratio,
        "target": target,
        "meets_target": meets,
        **extra,
    }


NODE_SCRIPT = r"""
const fs = require('fs');
const path = require('path');
const version = (name) => JSON.parse(fs.readFileSync(
  path.join(process.env.NODE_PATH, name, 'package.json'), 'utf8')).version;
const MiniSearchModule = require('minisearch');
const MiniSearch = MiniSearchModule.default || MiniSearchModule;
const FuseModule = require('fuse.js');
const Fuse = FuseModule.default || FuseModule;
const docs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const queries = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const out = {};
let t = process.hrtime.bigint();
const ms = new MiniSearch({fields: ['title', 'tags', 'headings', 'body'], idField: 'id',
  searchOptions: {boost: {title: 3, tags: 2, headings: 1.5}, fuzzy: 0.2, prefix: true}});
ms.addAll(docs);
const msBuild = Number(process.hrtime.bigint() - t) / 1e6;
const run = (search) => {
  const ranked = [], times = [];
  for (const q of queries) {
    const s = process.hrtime.bigint();
    const hits = search(q);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
    ranked.push(hits.slice(0, 10));
  }
  return {ranked, times};
};
out.minisearch = run(q => ms.search(q).map(h => h.id));
out.minisearch.build_ms = msBuild;
out.minisearch.version = version('minisearch');
t = process.hrtime.bigint();
const fuse = new Fuse(docs, {keys: [{name: 'title', weight: 3}, {name: 'tags', weight: 2},
  {name: 'headings', weight: 1.5}, {name: 'body', weight: 1}], includeScore: true,
  threshold: 0.4, ignoreLocation: true});
const fuseBuild = Number(process.hrtime.bigint() - t) / 1e6;
out.fuse = run(q => fuse.search(q, {limit: 10}).map(h => h.item.id));
out.fuse.build_ms = fuseBuild;
out.fuse.version = version('fuse.js');
process.stdout.write(JSON.stringify(out));
"""


def run_peers(articles: list[Article], queries: list[str]) -> tuple[dict[str, Any] | None, str]:
    """Run MiniSearch and Fuse.js through Node.js; ``(None, reason)`` when they cannot run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return None, "node or npm not found: MiniSearch and Fuse.js skipped"
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "uh-knowledge-base-bench"
    )
    cache.mkdir(parents=True, exist_ok=True)
    if (
        not (cache / "node_modules" / "minisearch").is_dir()
        or not (cache / "node_modules" / "fuse.js").is_dir()
    ):
        specs = [f"{name}@{major}" for name, major in NPM_PEERS.items()]
        install = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(cache), *specs],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if install.returncode != 0:
            return None, "npm install of minisearch and fuse.js failed: peers skipped"
    with tempfile.TemporaryDirectory() as folder:
        docs = [
            {
                "id": a.id,
                "title": a.title,
                "tags": " ".join(a.tags),
                "headings": " ".join(
                    line.lstrip("#").strip() for line in a.body.splitlines() if line.startswith("#")
                ),
                "body": plain_text(a.body),
            }
            for a in articles
        ]
        (Path(folder) / "docs.json").write_text(json.dumps(docs))
        (Path(folder) / "queries.json").write_text(json.dumps(queries))
        (Path(folder) / "peers.js").write_text(NODE_SCRIPT)
        env = dict(os.environ, NODE_PATH=str(cache / "node_modules"))
        result = subprocess.run(
            [
                node,
                str(Path(folder) / "peers.js"),
                str(Path(folder) / "docs.json"),
                str(Path(folder) / "queries.json"),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
    if result.returncode != 0:
        return None, "node run of the peers failed: peers skipped"
    return json.loads(result.stdout), ""


def _version() -> str | None:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def _defaults() -> list[Article]:
    kb = KnowledgeBaseService()
    kb.load_default_articles()
    return kb.list_articles(locale="en")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, in seconds")
    args = parser.parse_args(argv)
    logging.getLogger("unified_health").setLevel(logging.ERROR)
    quick = args.quick
    defaults = _defaults()
    size_small = 2000
    size_large = 2500 if quick else 10_000
    results: list[dict[str, Any]] = []
    notes: list[str] = []

    articles = corpus(size_small, defaults)
    ids = [a.id for a in articles]
    kb = _service(articles)
    tuning_text = [q for q, _ in TUNING_QUERIES]
    holdout_text = [q for q, _ in HOLDOUT_QUERIES]
    ours_ranked = [[h.id for h in kb.search(q).hits] for q in tuning_text]
    holdout_ranked = [[h.id for h in kb.search(q).hits] for q in holdout_text]
    mrr, recall = score(ours_ranked, TUNING_QUERIES, ids)
    holdout_mrr, holdout_recall = score(holdout_ranked, HOLDOUT_QUERIES, ids)

    peers_out, note = (
        (None, "peers skipped in --quick")
        if quick
        else run_peers(articles, tuning_text + holdout_text)
    )
    if note:
        notes.append(note)
    peer_mrr: dict[str, dict[str, Any]] = {}
    peer_recall: dict[str, dict[str, Any]] = {}
    peer_holdout: dict[str, dict[str, Any]] = {}
    peer_latency: dict[str, dict[str, Any]] = {}
    if peers_out is not None:
        for name, label in (("minisearch", "minisearch"), ("fuse", "fuse.js")):
            data = peers_out[name]
            ranked = data["ranked"][: len(tuning_text)]
            held = data["ranked"][len(tuning_text) :]
            p_mrr, p_recall = score(ranked, TUNING_QUERIES, ids)
            h_mrr, _ = score(held, HOLDOUT_QUERIES, ids)
            peer_mrr[label] = {"median": round(p_mrr, 4), "version": data["version"]}
            peer_recall[label] = {"median": round(p_recall, 4), "version": data["version"]}
            peer_holdout[label] = {"median": round(h_mrr, 4), "version": data["version"]}
            times = data["times"]
            peer_latency[label] = {
                "median": round(statistics.median(times), 4),
                "p95": round(_percentile(times, 0.95), 4),
                "version": data["version"],
            }
    minisearch = peer_mrr.get("minisearch", {}).get("median")
    fuse = peer_mrr.get("fuse.js", {}).get("median")
    meets = (
        mrr >= 0.80
        and (minisearch is None or mrr >= minisearch + 0.08)
        and (fuse is None or mrr >= fuse + 0.25)
    )
    results.append(
        _row(
            "relevance_mrr10",
            "mrr",
            {"median": mrr, "n": len(tuning_text)},
            target=0.80,
            meets=meets,
            peers=peer_mrr,
            note="target: >= 0.80, >= MiniSearch + 0.08, >= Fuse.js + 0.25",
        )
    )
    results.append(
        _row(
            "relevance_recall5",
            "recall",
            {"median": recall, "n": len(tuning_text)},
            target=None,
            meets=None,
            peers=peer_recall,
        )
    )
    results.append(
        _row(
            "relevance_holdout_mrr10",
            "mrr",
            {"median": holdout_mrr, "n": len(holdout_text)},
            target=0.80,
            meets=holdout_mrr >= 0.80,
            peers=peer_holdout,
            recall5=round(holdout_recall, 4),
            note="queries never used for tuning, first-contact score",
        )
    )

    queries = tuning_text + holdout_text
    rounds = 1 if quick else 5
    for size, target, large in ((size_small, 5.0, False), (size_large, 20.0, True)):
        service = kb if not large else _service(corpus(size, defaults))
        times, cpu_times = [], []
        for _ in range(rounds):
            for q in queries:
                cpu = time.process_time()
                start = time.perf_counter()
                service.search(q)
                times.append((time.perf_counter() - start) * 1000)
                cpu_times.append((time.process_time() - cpu) * 1000)
        timing = _timing(times)
        cpu_timing = _timing(cpu_times)
        peers = peer_latency if not large else {}
        results.append(
            _row(
                f"search_latency_{size}",
                "ms",
                timing,
                target=target,
                meets=timing["p95"] <= target,
                peers=peers,
                cpu_median=round(float(cpu_timing["median"]), 4),
                cpu_p95=round(float(cpu_timing["p95"]), 4),
                note="wall-clock p95 is the target; cpu_* is this process's CPU time",
            )
        )

    large_articles = corpus(size_large, defaults)
    documents = [
        {
            "key": a.id,
            "title": a.title,
            "tags": a.tags,
            "headings": tuple(
                line.lstrip("#").strip() for line in a.body.splitlines() if line.startswith("#")
            ),
            "body": a.body,
            "category": a.category,
        }
        for a in large_articles
    ]
    builds, cpu_builds = [], []
    index = SearchIndex("en")
    for _ in range(1 if quick else 3):
        index = SearchIndex("en")
        cpu = time.process_time()
        start = time.perf_counter()
        index.upsert_many(documents)
        builds.append(time.perf_counter() - start)
        cpu_builds.append(time.process_time() - cpu)
    results.append(
        _row(
            f"index_build_{size_large}",
            "s",
            {**_timing(builds)},
            target=2.0,
            meets=statistics.median(builds) <= 2.0 if not quick else None,
            cpu_median=round(statistics.median(cpu_builds), 4),
        )
    )

    upserts = []
    rng = random.Random(SEED)
    for n in range(50 if quick else 300):
        doc = dict(rng.choice(documents))
        doc["body"] = str(doc["body"]) + f"\n\nUpdated note {n}: bring your insurance card."
        start = time.perf_counter()
        index.upsert(**doc)  # type: ignore[arg-type]
        upserts.append((time.perf_counter() - start) * 1000)
    timing = _timing(upserts)
    results.append(
        _row(
            f"incremental_upsert_{size_large}", "ms", timing, target=5.0, meets=timing["p95"] <= 5.0
        )
    )

    renderer = Renderer()
    renders = []
    for _ in range(2 if quick else 20):
        for article in defaults:
            start = time.perf_counter()
            renderer.render(article.body)
            renders.append((time.perf_counter() - start) * 1000)
    timing = _timing(renders)
    results.append(
        _row(
            "render_sanitise",
            "ms",
            timing,
            target=1.0,
            meets=timing["median"] <= 1.0,
            note="median per default article",
        )
    )

    report = {
        "package": PACKAGE,
        "version": _version(),
        "python": platform.python_version(),
        "machine": {
            "cpus": os.cpu_count() or 1,
            "load_average_1m": round(os.getloadavg()[0], 2),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "quick": quick,
        "corpus": {"relevance": size_small, "large": size_large, "seed": SEED},
        "notes": notes,
        "results": results,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
