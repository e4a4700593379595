"""Collaborators are judged by the protocols they declare, not by attributes found by chance."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from unified_health.analytics import AnalyticsClient, InMemoryConsentStore
from unified_health.analytics.stores import ConsentStore, ForkAware, InProcessStore
from unified_health.analytics.testing import RecordingProvider

Make = Callable[..., AnalyticsClient]


class OwnStore:
    """A user's own consent store kept in memory, declaring it."""

    def __init__(self, in_process: bool) -> None:
        self.in_process = in_process
        self.records: dict[str, frozenset[str]] = {}

    def get_consent(self, user_id: str) -> frozenset[str] | None:
        return self.records.get(user_id)

    def get_consents(self, user_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        return {u: self.records[u] for u in user_ids if u in self.records}

    def set_consent(self, user_id: str, categories: Iterable[str]) -> None:
        self.records[user_id] = frozenset(categories)

    def delete_consent(self, user_id: str) -> None:
        self.records.pop(user_id, None)


def test_a_store_declaring_in_process_is_checked_at_track(make_client: Make) -> None:
    store = OwnStore(in_process=True)
    assert isinstance(store, ConsentStore)
    assert isinstance(store, InProcessStore)
    client = make_client([RecordingProvider()], consent_store=store, default_consent="essential")
    assert client.track("page_viewed", user_id="user-1") is False  # refused at once
    assert client.metrics().dropped == {"no_consent": 1}


def test_a_remote_store_is_checked_at_delivery(make_client: Make) -> None:
    store = OwnStore(in_process=False)
    provider = RecordingProvider()
    client = make_client([provider], consent_store=store, default_consent="essential")
    assert client.track("page_viewed", user_id="user-1") is True  # judged by the sender
    assert client.flush(5)
    assert provider.events == []
    assert client.metrics().dropped == {"no_consent": 1}


def test_the_built_in_stores_declare_what_they_are() -> None:
    assert isinstance(InMemoryConsentStore(), InProcessStore)
    assert isinstance(InMemoryConsentStore(), ForkAware)
    assert not isinstance(OwnStore(in_process=True), ForkAware)
