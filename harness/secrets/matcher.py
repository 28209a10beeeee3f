"""Finding many literal strings in one pass: Aho-Corasick (leftmost-longest), built in Rust by
`ahocorasick_rs`.

The automaton is immutable, so strings learned during a run wait in a short pending list (looked up with
`str.find`) until they number a quarter of the built ones; then everything is rebuilt. Rebuilds thus cost
O(total) overall, and `compile()` before a big job (scrubbing a whole recording) leaves nothing pending:
every string is then scanned once, whatever the number of values.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import ahocorasick_rs

T = TypeVar("T")
_MIN_PENDING = 8


class Matcher(Generic[T]):
    def __init__(self) -> None:
        self._patterns: list[str] = []
        self._info: dict[str, T] = {}
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        self._built = 0

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, pattern: object) -> bool:
        return pattern in self._info

    def info(self, pattern: str) -> T:
        return self._info[pattern]

    def add(self, pattern: str, info: T) -> None:
        """Look for `pattern` from now on (the first info given for a pattern stays)."""
        if pattern and pattern not in self._info:
            self._info[pattern] = info
            self._patterns.append(pattern)

    def compile(self) -> None:
        if self._built == len(self._patterns):
            return
        self._automaton = ahocorasick_rs.AhoCorasick(self._patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
        self._built = len(self._patterns)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, pattern) hits, leftmost first, the longest at each start."""
        if not self._patterns or not text:
            return []
        if len(self._patterns) - self._built > max(_MIN_PENDING, self._built // 4):
            self.compile()
        hits: list[tuple[int, int, str]] = []
        if self._automaton is not None:
            patterns = self._patterns
            hits = [(s, e, patterns[i]) for i, s, e in self._automaton.find_matches_as_indexes(text)]
        pending = self._patterns[self._built:]
        if not pending:
            return hits
        for pattern in pending:
            at = text.find(pattern)
            while at >= 0:
                hits.append((at, at + len(pattern), pattern))
                at = text.find(pattern, at + len(pattern))
        hits.sort(key=lambda h: (h[0], h[0] - h[1]))
        kept: list[tuple[int, int, str]] = []
        end = -1
        for hit in hits:
            if hit[0] >= end:
                kept.append(hit)
                end = hit[1]
        return kept
