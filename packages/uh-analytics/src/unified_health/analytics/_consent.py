"""Consent: which categories a user agreed to, and whether an event may go to a provider.

Every event has a category; every provider accepts a set of categories; a user's consent is
their record in the `ConsentStore` or, without one, the client's ``default_consent``.
``essential`` is always granted. An event reaches a provider only if its category is both
accepted by the provider and consented to by the user, checked when the event is tracked and
again right before each delivery attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._models import ConsentCategory, Event
from unified_health.analytics.stores._protocol import ConsentStore, InProcessStore

__all__ = ["ConsentGate"]

ESSENTIAL = ConsentCategory.ESSENTIAL.value
# Pseudonymous ids of recent withdrawals, for events restored from the spill store.
_WITHDRAWALS_KEPT = 10_000


class ConsentGate:
    """Decide consent for events, in bulk, against a store and a default.

    Args:
        store: Per-user consent records.
        default: Categories of users without a record.
        known: Every category the client knows.

    Examples:
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> gate = ConsentGate(InMemoryConsentStore(), {"essential"}, {"essential", "analytics"})
        >>> sorted(gate.consent_of("user-1"))
        ['essential']
    """

    def __init__(self, store: ConsentStore, default: Iterable[str], known: Iterable[str]) -> None:
        self.known = frozenset(known) | {ESSENTIAL}
        self.default = self.check("default_consent", default) | {ESSENTIAL}
        self.store = store
        self.local = isinstance(store, InProcessStore) and store.in_process is True
        self._withdrawn: dict[str, tuple[frozenset[str], float]] = {}

    def note_withdrawal(
        self, outbound_ids: Iterable[str], allowed: frozenset[str], at: float
    ) -> None:
        """Remember a user's remaining categories, as of ``at``, under their pseudonymous ids.

        Events restored from the spill store carry only those ids; `split` denies the ones that
        happened before ``at`` in a category not ``allowed`` (later events, tracked after a new
        grant elsewhere, were checked when tracked). The most recent withdrawals are kept.
        """
        for outbound_id in outbound_ids:
            self._withdrawn.pop(outbound_id, None)
            if len(self._withdrawn) >= _WITHDRAWALS_KEPT:
                self._withdrawn.pop(next(iter(self._withdrawn)), None)
            self._withdrawn[outbound_id] = (allowed, at)

    def check(self, field: str, categories: Iterable[str]) -> frozenset[str]:
        """Return ``categories`` as a frozenset, or raise naming the unknown ones.

        Raises:
            InvalidInputError: A category the client does not know.
        """
        if isinstance(categories, str):
            categories = {categories}
        found = frozenset(categories)
        unknown = found - self.known
        if unknown:
            raise InvalidInputError(
                field, f"unknown consent categories {sorted(unknown)}; known: {sorted(self.known)}"
            )
        return found

    def consent_of(self, subject: str | None) -> frozenset[str]:
        """The effective categories of a user (store record or default, plus essential)."""
        if subject is None:
            return self.default
        record = self.store.get_consent(subject)
        return self.default if record is None else record | {ESSENTIAL}

    def allows_now(self, subject: str | None, category: str) -> bool | None:
        """Decide without I/O when the store is in-process; ``None`` means "ask later"."""
        if category == ESSENTIAL:
            return True
        if subject is None:
            return category in self.default
        if not self.local:
            return None
        record = self.store.get_consent(subject)
        return category in (self.default if record is None else record)

    def split(self, events: Sequence[Event]) -> tuple[list[Event], list[Event]]:
        """Return (allowed, denied) for a batch, with one store lookup for all its users.

        An event restored from the spill store by another process has no raw subject (only
        pseudonymous ids were stored); it was checked right before it was spilled and is allowed,
        unless this process saw its user withdraw that category since (`note_withdrawal`).
        """
        subjects = list({s for e in events if (s := e.user_id or e.anonymous_id) is not None})
        records = self.store.get_consents(subjects) if subjects else {}
        allowed: list[Event] = []
        denied: list[Event] = []
        default = self.default
        for event in events:
            subject = event.user_id or event.anonymous_id
            if subject is None and event.outbound is not None:
                noted = self._withdrawn.get(event.outbound.distinct_id) if self._withdrawn else None
                ok = (
                    noted is None
                    or event.category == ESSENTIAL
                    or event.category in noted[0]
                    or event.timestamp > noted[1]
                )
                (allowed if ok else denied).append(event)
                continue
            cats = records.get(subject, default) if subject is not None else default
            ok = event.category == ESSENTIAL or event.category in cats
            (allowed if ok else denied).append(event)
        return allowed, denied
