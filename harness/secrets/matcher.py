"""Finding many literal strings in one pass: Aho-Corasick (leftmost-longest), built in Rust by
`ahocorasick_rs`.

The automaton is immutable, so strings learned during a run wait in a pending list until they number a
quarter of the built ones, or a long text is searched; then everything is rebuilt. Rebuilds thus cost
O(total) overall. A short text (a URL, a header) meanwhile finds pending strings through an index of their
first 6 characters, in O(its length). `compile()` before a big job (scrubbing a whole recording) leaves
nothing pending: every string is then scanned once, whatever the number of values.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import ahocorasick_rs

T = TypeVar("T")
_MIN_PENDING = 8
# Texts up to this length are searched for pending patterns position by position (O(length)); a longer one
# triggers a rebuild first.
_SHORT = 2048
_PREFIX = 6


class Matcher(Generic[T]):
    def __init__(self) -> None:
        self._patterns: list[str] = []
        self._info: dict[str, T] = {}
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        self._built = 0
        # The patterns not built yet, by their first characters (every pattern has at least `_PREFIX`).
        self._pending: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, pattern: object) -> bool:
        return pattern in self._info

    def info(self, pattern: str) -> T:
        return self._info[pattern]

    def add(self, pattern: str, info: T) -> None:
        """Look for `pattern` (at least 6 characters) from now on (the first info given for it stays)."""
        if len(pattern) >= _PREFIX and pattern not in self._info:
            self._info[pattern] = info
            self._patterns.append(pattern)
            self._pending.setdefault(pattern[:_PREFIX], []).append(pattern)

    def compile(self) -> None:
        if self._built == len(self._patterns):
            return
        self._automaton = ahocorasick_rs.AhoCorasick(self._patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
        self._built = len(self._patterns)
        self._pending = {}

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, pattern) hits, leftmost first, the longest at each start."""
        if not self._patterns or not text:
            return []
        pending = len(self._patterns) - self._built
        if pending and (pending > max(_MIN_PENDING, self._built // 4) or len(text) > _SHORT):
            self.compile()  # a long text is worth a rebuild; short ones (URLs, headers) use the index below
            pending = 0
        hits: list[tuple[int, int, str]] = []
        if self._automaton is not None:
            patterns = self._patterns
            hits = [(s, e, patterns[i]) for i, s, e in self._automaton.find_matches_as_indexes(text)]
        if not pending:
            return hits
        index = self._pending
        for at in range(len(text) - _PREFIX + 1):
            for pattern in index.get(text[at:at + _PREFIX], ()):
                if text.startswith(pattern, at):
                    hits.append((at, at + len(pattern), pattern))
        hits.sort(key=lambda h: (h[0], h[0] - h[1]))
        kept: list[tuple[int, int, str]] = []
        end = -1
        for hit in hits:
            if hit[0] >= end:
                kept.append(hit)
                end = hit[1]
        return kept
