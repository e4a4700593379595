"""The search index: an inverted index with BM25F scoring, typo tolerance, prefixes and synonyms.

How a query is answered (the docs page explains the same in prose):

1. The query is cleaned (control characters dropped, at most 200 characters and 12 words kept),
   folded (lower case, no accents), split into words and lightly stemmed. Stop words of the locale
   are dropped unless the query has nothing else.
2. Each word becomes a *slot* of alternative index terms with weights: the word itself (1.0); its
   typo variants found in the index vocabulary with rapidfuzz (one typo from 4 letters, two from
   8, each costing weight); vocabulary words it is a prefix of (always for the last word while it
   is being typed, for other words from 4 letters); and its synonyms.
   Multi-word synonyms (``"video visit"`` for ``"telehealth"``) are alternatives too.
3. Each article scores, per slot, the best of its alternatives under BM25F: term frequencies
   weighted by field (title 6, tags 4, headings 2.5, body 1), length-normalised per field,
   saturated, times the term's inverse document frequency.
4. An article must match at least one word of a one- or two-word query, and at least half the
   words of a longer one. Slot scores add up; the sum is scaled by the share of slots matched
   (all words beat most words), with bonuses when every word matched, by how much of the query
   the title and tags hold, and when the words appear as a phrase in the title or body. An
   optional popularity boost multiplies by a log of views and helpful votes.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from rapidfuzz import process
from rapidfuzz.distance import OSA

from unified_health.knowledge_base._errors import InvalidInputError
from unified_health.knowledge_base._models import FacetCount, SearchHit
from unified_health.knowledge_base._text import STOP_WORDS, analyze, plain_text, stem, words

__all__ = ["DEFAULT_SYNONYMS", "SearchIndex", "clean_query"]

# title, tags, headings, body
_FIELD_WEIGHTS = (6.0, 4.0, 2.5, 1.0)
_FIELD_B = (0.5, 0.3, 0.5, 0.75)
_K1 = 1.2
_MAX_QUERY_CHARS = 200
_MAX_QUERY_WORDS = 12
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*(?:[-+]|\d+\.)\s)")
_WORD_SPAN = re.compile("[\\w'\u2019]+")

DEFAULT_SYNONYMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        (
            "telehealth",
            "telemedicine",
            "video visit",
            "virtual visit",
            "virtual care",
            "e-visit",
            "video appointment",
            "online visit",
        ),
        ("rx", "prescription", "medication", "medicine", "meds", "drug"),
        ("refill", "renew", "renewal", "reorder"),
        ("appointment", "appt", "booking"),
        ("book", "schedule", "make an appointment"),
        ("reschedule", "change appointment", "move appointment"),
        ("cancel", "cancellation", "call off"),
        ("doctor", "provider", "physician", "clinician", "dr", "nurse practitioner"),
        ("care team", "doctor's office", "clinic"),
        ("log in", "login", "sign in", "signin", "log on", "logon"),
        ("log out", "logout", "sign out"),
        ("password", "passcode", "pw"),
        ("cant", "cannot", "unable", "trouble", "problem"),
        ("username", "user name", "user id"),
        ("bill", "invoice", "statement", "charge"),
        ("pay", "payment"),
        ("insurance", "coverage", "insurer", "health plan"),
        ("copay", "co-pay", "copayment"),
        ("lab", "laboratory", "bloodwork", "blood test", "test result"),
        ("message", "inbox", "secure message", "chat"),
        ("hipaa", "privacy", "health information"),
        ("two-factor", "2fa", "mfa", "verification code", "one-time code"),
        ("pharmacy", "drugstore", "chemist"),
        ("camera", "webcam", "video"),
        ("mic", "microphone", "audio", "sound"),
        ("screen reader", "accessibility", "a11y"),
        ("records", "medical records", "chart", "health record"),
        ("proxy", "caregiver", "family access"),
        ("email", "e-mail"),
        ("phone", "mobile", "cell"),
        ("delete account", "close account", "deactivate"),
        (
            "family member",
            "daughter",
            "son",
            "child",
            "spouse",
            "husband",
            "wife",
            "parent",
            "relative",
        ),
        ("not working", "problem", "fixing", "broken", "doesn't work", "won't work"),
        ("refund", "money back", "overcharged"),
    ),
    "es": (
        ("telemedicina", "videoconsulta", "consulta virtual", "consulta por video"),
        ("receta", "prescripcion", "medicamento", "medicina"),
        ("cita", "consulta", "turno"),
        ("contrasena", "clave"),
        ("factura", "cuenta", "cobro"),
        ("seguro", "aseguradora", "cobertura"),
        ("iniciar sesion", "entrar", "acceder"),
        ("resultados", "analisis", "laboratorio"),
        ("mensaje", "bandeja", "chat"),
        ("medico", "doctor", "proveedor"),
    ),
}


def clean_query(query: object) -> str:
    r"""Return the query as the index reads it: control characters gone, at most 200 characters.

    Args:
        query: What the user typed.

    Returns:
        The cleaned query (may be empty).

    Raises:
        InvalidInputError: ``query`` is not a str (bytes included).

    Examples:
        >>> clean_query("  refill\x00 rx  ")
        'refill rx'
    """
    if not isinstance(query, str):
        raise InvalidInputError("query", "must be a str")
    return " ".join(_CONTROL.sub(" ", query[: _MAX_QUERY_CHARS * 4]).split())[:_MAX_QUERY_CHARS]


@dataclass
class _Doc:
    key: str
    category: str
    title: str
    tags: tuple[str, ...]
    plain: str
    title_terms: list[str]
    body_terms: list[str]
    lengths: tuple[int, int, int, int]
    popularity: float = 0.0
    terms: set[str] = field(default_factory=set)
    title_set: frozenset[str] = frozenset()


@dataclass
class _Slot:
    alternatives: dict[str, float]
    required: bool
    phrase_terms: tuple[str, ...] = ()
    covers: int = 0  # bit mask of the query words this slot stands for


def _typo_budget(length: int) -> int:
    if length < 4:
        return 0
    return 1 if length < 8 else 2


class SearchIndex:
    """An in-memory inverted index over one locale's published articles.

    Args:
        locale: The language rules (stemming, stop words, default synonyms): ``"en"``, ``"es"``.
        synonyms: Extra synonym groups; each group is a sequence of words or phrases that mean
            the same. Added to the locale's health-care defaults.

    Examples:
        >>> index = SearchIndex("en")
        >>> index.upsert("en/refills", title="Requesting a prescription refill",
        ...              tags=("pharmacy",), headings=(), body="Open Prescriptions.", category="rx")
        >>> index.upsert("en/video", title="Joining a video visit", tags=(), headings=(),
        ...              body="Test your camera.", category="visits")
        >>> hits, total, facets = index.search("perscription refil")
        >>> (total, hits[0].id)
        (1, 'en/refills')
        >>> index.search("telehealth")[0][0].id
        'en/video'
    """

    def __init__(self, locale: str = "en", *, synonyms: Iterable[Sequence[str]] = ()) -> None:
        self.locale = locale
        self._stops = STOP_WORDS.get(locale[:2], frozenset())
        self._stop_terms = frozenset(stem(word, locale) for word in self._stops)
        self._lock = threading.RLock()
        self._docs: dict[int, _Doc] = {}
        self._category_of: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self._next = 0
        self._postings: dict[str, dict[int, float]] = {}
        self._field_tf: dict[str, dict[int, tuple[int, int, int, int]]] = {}
        self._length_sums = [0, 0, 0, 0]
        self._sorted_vocab: list[str] = []
        self._by_length: dict[int, list[str]] = {}
        self._surface: dict[str, str] = {}
        self._synonyms: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        self._max_popularity = 0.0
        self._bulk = False
        for default_group in DEFAULT_SYNONYMS.get(locale[:2], ()):
            self.add_synonyms(default_group)
        for group in synonyms:
            self.add_synonyms(group)

    # ------------------------------------------------------------------ building

    def add_synonyms(self, group: Sequence[str]) -> None:
        """Declare that the words or phrases of ``group`` mean the same.

        Args:
            group: Two or more words or phrases, e.g. ``("rx", "prescription")``.

        Raises:
            InvalidInputError: ``group`` has fewer than two non-empty entries or is not a
                sequence of str.

        Examples:
            >>> index = SearchIndex("en")
            >>> index.add_synonyms(["covid jab", "covid vaccine"]) is None
            True
        """
        if isinstance(group, str) or not all(isinstance(item, str) for item in group):
            raise InvalidInputError("synonyms", "each group must be a list of str")
        phrases = {tuple(analyze(item, self.locale)) for item in group}
        phrases.discard(())
        if len(phrases) < 2:
            raise InvalidInputError("synonyms", "each group needs at least two different entries")
        with self._lock:
            for phrase in phrases:
                self._synonyms.setdefault(phrase, set()).update(phrases - {phrase})

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def _vocab_add(self, term: str) -> None:
        bisect.insort(self._sorted_vocab, term)
        bisect.insort(self._by_length.setdefault(len(term), []), term)

    def _vocab_remove(self, term: str) -> None:
        for bucket in (self._sorted_vocab, self._by_length.get(len(term), [])):
            at = bisect.bisect_left(bucket, term)
            if at < len(bucket) and bucket[at] == term:
                del bucket[at]

    def upsert(
        self,
        key: str,
        *,
        title: str,
        tags: Sequence[str],
        headings: Sequence[str],
        body: str,
        category: str,
        popularity: float = 0.0,
    ) -> None:
        """Add a document, or replace the one under ``key``; no rebuild needed.

        Args:
            key: The document's id (an article id).
            title: Its title.
            tags: Its tags.
            headings: Its section headings.
            body: Its Markdown body (Markdown punctuation is ignored).
            category: Its category slug, for filters and facets.
            popularity: Views plus helpful votes, for the optional popularity boost.

        Examples:
            >>> index = SearchIndex("en")
            >>> index.upsert("a", title="Paying a bill", tags=(), headings=(), body="",
            ...              category="b")
            >>> len(index)
            1
        """
        plain = plain_text(body)
        tag_text = " ".join(tags)
        fields = (title, tag_text, " ".join(headings), plain)
        locale = self.locale
        surface = self._surface
        analysed: list[list[str]] = []
        for text in fields:
            found = words(text)
            terms = [stem(word, locale) for word in found]
            analysed.append(terms)
            for word, term in zip(found, terms, strict=True):
                if term not in surface:
                    surface[term] = word
        with self._lock:
            self._remove(key)
            number = self._next
            self._next += 1
            doc = _Doc(
                key=key,
                category=category,
                title=title,
                tags=tuple(tags),
                plain=plain,
                title_terms=[t for t in analysed[0] if t not in self._stop_terms],
                body_terms=[t for t in analysed[3] if t not in self._stop_terms],
                lengths=(
                    len(analysed[0]),
                    len(analysed[1]),
                    len(analysed[2]),
                    len(analysed[3]),
                ),
                popularity=max(float(popularity), 0.0),
            )
            per_field = [Counter(terms) for terms in analysed]
            t0, t1, t2, t3 = per_field
            unique = set(t3).union(t0, t1, t2)
            for position, length in enumerate(doc.lengths):
                self._length_sums[position] += length
            self._docs[number] = doc
            self._ids[key] = number
            self._category_of[number] = category
            postings, field_tf, bulk = self._postings, self._field_tf, self._bulk
            for term in unique:
                tf = (t0[term], t1[term], t2[term], t3[term])
                if term not in postings:
                    postings[term] = {}
                    field_tf[term] = {}
                    self._vocab_add(term)
                field_tf[term][number] = tf
                postings[term][number] = 0.0 if bulk else self._saturated(tf, doc.lengths)
            doc.terms = unique
            doc.title_set = frozenset(analysed[0]) | frozenset(analysed[1])
            self._max_popularity = max(self._max_popularity, doc.popularity)

    def _averages(self) -> tuple[float, ...]:
        count = max(len(self._docs), 1)
        return tuple(max(total / count, 1.0) for total in self._length_sums)

    def _saturated(
        self,
        tf: Sequence[int],
        lengths: Sequence[int],
        averages: Sequence[float] | None = None,
    ) -> float:
        averages = averages or self._averages()
        weighted = 0.0
        for position in range(4):
            if tf[position]:
                b = _FIELD_B[position]
                norm = 1.0 - b + b * lengths[position] / averages[position]
                weighted += _FIELD_WEIGHTS[position] * tf[position] / norm
        return weighted * (_K1 + 1.0) / (_K1 + weighted)

    def rescore(self) -> None:
        """Recompute every stored term weight with the current average field lengths.

        Incremental upserts use the averages of the moment; after many changes this brings every
        document to the same footing. Building with `upsert_many` does it once at the end.

        Examples:
            >>> SearchIndex("en").rescore() is None
            True
        """
        with self._lock:
            averages = self._averages()
            scale: dict[int, tuple[float, float, float, float]] = {}
            for number, doc in self._docs.items():
                inverse = [
                    _FIELD_WEIGHTS[f]
                    / (1.0 - _FIELD_B[f] + _FIELD_B[f] * doc.lengths[f] / averages[f])
                    for f in range(4)
                ]
                scale[number] = (inverse[0], inverse[1], inverse[2], inverse[3])
            k1, k1_plus = _K1, _K1 + 1.0
            for term, per_doc in self._field_tf.items():
                postings = self._postings[term]
                for number, (a, b, c, d) in per_doc.items():
                    i0, i1, i2, i3 = scale[number]
                    weighted = a * i0 + b * i1 + c * i2 + d * i3
                    postings[number] = weighted * k1_plus / (k1 + weighted)

    def remove(self, key: str) -> bool:
        """Take a document out of the index (unpublished or deleted); ``True`` if it was there.

        Examples:
            >>> SearchIndex("en").remove("missing")
            False
        """
        with self._lock:
            return self._remove(key)

    def _remove(self, key: str) -> bool:
        number = self._ids.pop(key, None)
        if number is None:
            return False
        doc = self._docs.pop(number)
        del self._category_of[number]
        for position, length in enumerate(doc.lengths):
            self._length_sums[position] -= length
        for term in doc.terms:
            postings = self._postings[term]
            postings.pop(number, None)
            self._field_tf[term].pop(number, None)
            if not postings:
                del self._postings[term]
                del self._field_tf[term]
                self._vocab_remove(term)
        return True

    def set_popularity(self, key: str, popularity: float) -> None:
        """Set the popularity (views plus helpful votes) of a document already indexed.

        Examples:
            >>> SearchIndex("en").set_popularity("missing", 3.0) is None
            True
        """
        with self._lock:
            number = self._ids.get(key)
            if number is not None:
                self._docs[number].popularity = max(float(popularity), 0.0)
                self._max_popularity = max(self._max_popularity, float(popularity))

    # ------------------------------------------------------------------ querying

    def _idf(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        n = len(self._docs)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _expand(self, raw: str, term: str, *, typing: bool) -> dict[str, float]:
        alternatives: dict[str, float] = {}
        exact = term in self._postings
        if exact:
            alternatives[term] = 1.0
        completions: dict[str, float] = {}
        if (typing and len(raw) >= 2) or len(raw) >= 4:
            prefix = raw if len(raw) <= len(term) else term
            start = bisect.bisect_left(self._sorted_vocab, prefix)
            base = (0.8 if typing else 0.6) * (0.5 if exact else 1.0)
            for found in self._sorted_vocab[start : start + 40]:
                if not found.startswith(prefix):
                    break
                if found != term:
                    completions[found] = base * (0.5 + 0.5 * len(prefix) / len(found))
        budget = _typo_budget(len(raw))
        if budget:
            candidates: list[str] = []
            for length in range(len(term) - budget, len(term) + budget + 1):
                candidates.extend(self._by_length.get(length, ()))
            found_typos = [
                (found, distance)
                for found, distance, _ in process.extract(
                    term, candidates, scorer=OSA.distance, score_cutoff=budget, limit=20
                )
                if found != term and (distance == 1 or found[0] == term[0])
            ]
            if found_typos:
                # Among variants, the common word is the likelier intent ("chek": check, not
                # Chen), so a rare variant's idf is capped at the most common one's; an exact
                # word or a completion of the word being typed wins over typos.
                floor = min(self._idf(found) for found, _ in found_typos)
                damp = 0.35 if exact or completions else 1.0
                for found, distance in found_typos:
                    weight = (0.72 if distance == 1 else 0.45) * damp
                    weight *= floor / max(self._idf(found), 1e-9)
                    alternatives[found] = max(alternatives.get(found, 0.0), weight)
        if completions:
            # A completion is worth no more than the word itself (or the commonest completion):
            # "visit" must not rank "visitor" pages first because "visitor" is rarer.
            reference = self._idf(term) if exact else min(self._idf(f) for f in completions)
            for found, weight in completions.items():
                weight *= min(1.0, reference / max(self._idf(found), 1e-9))
                alternatives[found] = max(alternatives.get(found, 0.0), weight)
        return alternatives

    def _slots(self, query: str) -> list[_Slot]:
        raw_words = words(query)[:_MAX_QUERY_WORDS]
        if not raw_words:
            return []
        terms = [stem(w, self.locale) for w in raw_words]
        keep = [i for i, w in enumerate(raw_words) if w not in self._stops] or list(
            range(len(raw_words))
        )
        typing = not query[-1:].isspace()
        slots: list[_Slot] = []
        bit = {i: 1 << n for n, i in enumerate(keep)}
        for i in keep:
            last = i == len(raw_words) - 1
            alternatives = self._expand(raw_words[i], terms[i], typing=last and typing)
            for synonym in self._synonyms.get((terms[i],), ()):
                if len(synonym) == 1 and synonym[0] in self._postings:
                    alternatives.setdefault(synonym[0], 0.9)
                elif len(synonym) > 1:
                    slots.append(_Slot({}, required=False, phrase_terms=synonym, covers=bit[i]))
            slots.append(_Slot(alternatives, required=True, covers=bit[i]))
        for width in (2, 3):
            for start in range(len(terms) - width + 1):
                phrase = tuple(terms[start : start + width])
                covers = sum(bit.get(i, 0) for i in range(start, start + width))
                slots.extend(
                    _Slot({}, required=False, phrase_terms=synonym, covers=covers)
                    for synonym in self._synonyms.get(phrase, ())
                )
        return slots

    def _score_slot(self, slot: _Slot) -> dict[int, float]:
        postings_of = self._postings
        if slot.phrase_terms:
            parts = [t for t in slot.phrase_terms if t not in self._stop_terms] or list(
                slot.phrase_terms
            )
            share = 0.85 / len(parts)
            found = sorted(
                ((self._idf(t) * share, postings_of[t]) for t in parts if t in postings_of),
                key=lambda item: -len(item[1]),
            )
            if not found:
                return {}
            factor, postings = found[0]
            scores = {number: factor * weight for number, weight in postings.items()}
            for factor, postings in found[1:]:
                get = scores.get
                for number, weight in postings.items():
                    scores[number] = get(number, 0.0) + factor * weight
            return scores
        found = sorted(
            (
                (self._idf(term) * weight, postings_of[term])
                for term, weight in slot.alternatives.items()
                if term in postings_of
            ),
            key=lambda item: -len(item[1]),
        )
        if not found:
            return {}
        # The longest posting list goes through a comprehension; the others keep the best value.
        factor, postings = found[0]
        scores = {number: factor * weight for number, weight in postings.items()}
        for factor, postings in found[1:]:
            get = scores.get
            for number, weight in postings.items():
                value = factor * weight
                if value > get(number, 0.0):
                    scores[number] = value
        return scores

    @staticmethod
    def _slot_terms(slots: list[_Slot]) -> list[dict[str, float]]:
        """Per query word, every term that stands for it (alternatives, synonym phrases)."""
        required = [slot for slot in slots if slot.required]
        terms = [dict(slot.alternatives) for slot in required]
        for slot in slots:
            if not slot.required:
                for n, owner in enumerate(required):
                    if slot.covers & owner.covers:
                        for term in slot.phrase_terms:
                            terms[n].setdefault(term, 0.85)
        return terms

    def _has_phrase(self, sequence: list[str], phrase: list[str]) -> bool:
        width = len(phrase)
        first = phrase[0]
        for at, term in enumerate(sequence[: len(sequence) - width + 1]):
            if term == first and sequence[at : at + width] == phrase:
                return True
        return False

    def search(
        self,
        query: str,
        *,
        categories: set[str] | None = None,
        offset: int = 0,
        limit: int = 10,
        popularity_boost: float = 0.0,
    ) -> tuple[list[SearchHit], int, list[FacetCount]]:
        """Rank the documents for ``query``.

        Args:
            query: What the user typed (cleaned with `clean_query`).
            categories: Only documents in these categories; facets still count every category.
            offset: Hits to skip (pagination).
            limit: Hits to return.
            popularity_boost: 0 for none; 0.2 lets popularity move a score by up to 20%.

        Returns:
            The page of hits, the total number of matches, and facet counts by category.

        Examples:
            >>> SearchIndex("en").search("")
            ([], 0, [])
        """
        text = clean_query(query)
        with self._lock:
            slots = self._slots(text)
            required = [slot for slot in slots if slot.required]
            if not required:
                return [], 0, []
            totals: dict[int, float] = {}
            masks: dict[int, int] = {}  # which query words each article matched, as bits
            matched_terms: set[str] = set()
            for slot in slots:
                scores = self._score_slot(slot)
                if not scores:
                    continue
                matched_terms.update(slot.alternatives or slot.phrase_terms)
                covers = slot.covers
                if not totals:
                    totals = scores
                    masks = dict.fromkeys(scores, covers)
                    continue
                total_get, mask_get = totals.get, masks.get
                for number, value in scores.items():
                    totals[number] = total_get(number, 0.0) + value
                    masks[number] = mask_get(number, 0) | covers
            count = len(required)
            needed = 1 if count < 3 else (count + 1) // 2
            factors = [0.3 + 0.7 * (hits / count) ** 2 for hits in range(count + 1)]
            if count > 1:
                factors[count] *= 1.25
            ranked = {
                number: value * factors[masks[number].bit_count()]
                for number, value in totals.items()
                if masks[number].bit_count() >= needed
            }
            query_terms = [stem(w, self.locale) for w in words(text) if w not in self._stops]
            slot_terms = self._slot_terms(slots)
            for number in heapq.nlargest(100, ranked, key=ranked.__getitem__):
                doc = self._docs[number]
                in_title = sum(
                    max((w for t, w in terms.items() if t in doc.title_set), default=0.0)
                    for terms in slot_terms
                )
                ranked[number] *= 1.0 + 0.6 * in_title / count
                if len(query_terms) > 1:
                    if self._has_phrase(doc.title_terms, query_terms):
                        ranked[number] *= 1.3
                    elif self._has_phrase(doc.body_terms, query_terms):
                        ranked[number] *= 1.1
            if popularity_boost > 0 and self._max_popularity > 0:
                top = math.log1p(self._max_popularity)
                for number in ranked:
                    share = math.log1p(self._docs[number].popularity) / top
                    ranked[number] *= 1.0 + popularity_boost * share
            facet_counts = Counter(map(self._category_of.__getitem__, ranked))
            if categories is not None:
                ranked = {n: v for n, v in ranked.items() if self._docs[n].category in categories}
            total = len(ranked)
            page = heapq.nlargest(offset + limit, ranked.items(), key=lambda item: item[1])
            matched_terms -= self._stop_terms
            hits = [
                self._hit(self._docs[number], score, matched_terms)
                for number, score in page[offset:]
            ]
            facets = [
                FacetCount(category=name, count=value)
                for name, value in sorted(facet_counts.items(), key=lambda kv: (-kv[1], kv[0]))
            ]
            return hits, total, facets

    def _mark(self, text: str, terms: set[str]) -> str:
        out: list[str] = []
        last = 0
        for match in _WORD_SPAN.finditer(text):
            folded = words(match.group())
            if folded and any(stem(w, self.locale) in terms for w in folded):
                out.append(escape(text[last : match.start()]))
                out.append(f"<mark>{escape(match.group())}</mark>")
                last = match.end()
        out.append(escape(text[last:]))
        return "".join(out)

    def _snippet(self, doc: _Doc, terms: set[str]) -> str:
        best = ""
        best_score = -1
        for sentence in _SENTENCE.split(doc.plain):
            sentence = " ".join(sentence.split())
            if not sentence:
                continue
            found = {stem(w, self.locale) for w in words(sentence)} & terms
            if len(found) > best_score:
                best, best_score = sentence, len(found)
                if best_score == len(terms):
                    break
        if len(best) > 200:
            best = best[:197].rsplit(" ", 1)[0] + "…"
        return self._mark(best, terms)

    def _hit(self, doc: _Doc, score: float, terms: set[str]) -> SearchHit:
        return SearchHit(
            id=doc.key,
            slug=doc.key.split("/", 1)[-1],
            title=doc.title,
            title_html=self._mark(doc.title, terms),
            category=doc.category,
            snippet_html=self._snippet(doc, terms),
            score=round(score, 6),
        )

    def suggest(self, query: str) -> str | None:
        """Offer a corrected query, word by word from the vocabulary, when one would match.

        Args:
            query: The query that found nothing.

        Returns:
            The corrected query, or ``None`` when no correction finds anything.

        Examples:
            >>> index = SearchIndex("en")
            >>> index.upsert("a", title="Insurance cards", tags=(), headings=(), body="",
            ...              category="billing")
            >>> index.suggest("xnsuranse")
            'insurance'
        """
        text = clean_query(query)
        raw_words = words(text)[:_MAX_QUERY_WORDS]
        if not raw_words:
            return None
        with self._lock:
            corrected: list[str] = []
            changed = False
            for word in raw_words:
                term = stem(word, self.locale)
                if word in self._stops or term in self._postings or len(word) < 3:
                    corrected.append(word)
                    continue
                found = process.extractOne(
                    term,
                    self._sorted_vocab,
                    scorer=OSA.normalized_similarity,
                    score_cutoff=0.55,
                )
                if found is None:
                    corrected.append(word)
                    continue
                corrected.append(self._surface.get(found[0], found[0]))
                changed = True
            if not changed:
                return None
            suggestion = " ".join(corrected)
            return suggestion if self.search(suggestion + " ", limit=1)[1] else None

    def vocabulary_size(self) -> int:
        """How many distinct terms the index holds.

        Examples:
            >>> SearchIndex("en").vocabulary_size()
            0
        """
        return len(self._postings)

    def keys(self) -> list[str]:
        """The ids of every indexed document.

        Examples:
            >>> SearchIndex("en").keys()
            []
        """
        with self._lock:
            return list(self._ids)

    def upsert_many(self, documents: Iterable[Mapping[str, object]]) -> int:
        """Add many documents, then rescore once: the fast way to build a whole index.

        Args:
            documents: Mappings with the keyword arguments of `upsert` (``key`` included).

        Returns:
            How many documents were added.

        Examples:
            >>> SearchIndex("en").upsert_many([dict(key="a", title="A", tags=(), headings=(),
            ...                                     body="", category="c")])
            1
        """
        added = 0
        with self._lock:
            self._bulk = True
            try:
                for document in documents:
                    self.upsert(**document)  # type: ignore[arg-type]
                    added += 1
            finally:
                self._bulk = False
                self.rescore()
        return added
