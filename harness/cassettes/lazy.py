"""`LazyInteractions`: a cached cassette's interactions, read from its parsed-cassette cache a chunk at a time.

A cache hit (`harness.cassettes.parsed_cache`) does not unmarshal the parse whole: the replay's index is
built from the request parts alone (`requests()`), and a chunk's interactions are made the first time one
of them is asked for. A chunk is let go once each of its interactions has been replaced (the replay puts a
marker in a played interaction's place), so a replay that plays its cassette in order holds about one
chunk of it at a time; one that plays out of order keeps the chunks it is still using (never reads one
twice for that).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, MutableSequence, Sequence
from typing import Any, Generic, TypeVar, overload

from .parsed_cache import CacheChanged, CachedParse

T = TypeVar("T")


class LazyInteractions(MutableSequence[T], Generic[T]):
    """A sequence of `make(*fields)` over a `CachedParse`'s rows; items may be replaced, never added or
    removed."""

    def __init__(self, parse: CachedParse, make: Callable[..., T]) -> None:
        self._parse, self._make = parse, make
        self._starts = parse.starts
        ends = [*parse.starts[1:], parse.count]
        self._left = [end - start for start, end in zip(parse.starts, ends, strict=True)]  # not yet replaced
        self._loaded: dict[int, list[T]] = {}
        self._replaced: dict[int, T] = {}

    def _size(self, c: int) -> int:
        return (self._starts[c + 1] if c + 1 < len(self._starts) else self._parse.count) - self._starts[c]

    def _chunk(self, c: int) -> list[T]:
        make = self._make
        requests, responses = self._parse.requests(c), self._parse.responses(c)
        if not len(requests) == len(responses) == self._size(c):
            raise CacheChanged(f"{self._parse.where}: a parsed-cassette cache chunk does not match its header",
                               hint="delete .harness/cache and run again")
        return [make(m, u, rh, rb, *response, ex) for (m, u, rh, rb, ex), response
                in zip(requests, responses, strict=True)]

    def requests(self) -> Iterator[T]:
        """Each interaction's request part, responses left empty (what an index of requests needs)."""
        make = self._make
        for c in range(len(self._starts)):
            requests = self._parse.requests(c)
            if len(requests) != self._size(c):
                raise CacheChanged(f"{self._parse.where}: a parsed-cassette cache chunk does not match its header",
                                   hint="delete .harness/cache and run again")
            for m, u, rh, rb, ex in requests:
                yield make(m, u, rh, rb, 0, "", {}, b"", ex)

    def _at(self, n: int) -> int:
        if n < 0:
            n += self._parse.count
        if not 0 <= n < self._parse.count:
            raise IndexError("interaction index out of range")
        return n

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self)))]
        n = self._at(index)
        held = self._replaced.get(n)
        if held is not None:
            return held
        c = bisect.bisect_right(self._starts, n) - 1
        items = self._loaded.get(c)
        if items is None:
            items = self._loaded[c] = self._chunk(c)
        return items[n - self._starts[c]]

    def __setitem__(self, index: Any, value: Any) -> None:
        if not isinstance(index, int):
            raise TypeError("replace interactions one at a time")
        n = self._at(index)
        if n not in self._replaced:
            c = bisect.bisect_right(self._starts, n) - 1
            self._left[c] -= 1
            if self._left[c] == 0:
                self._loaded.pop(c, None)  # every one of its interactions replaced: nothing left to read
        self._replaced[n] = value

    def __delitem__(self, index: Any) -> None:
        raise TypeError("a cached cassette's interactions can be replaced, not removed")

    def insert(self, index: int, value: T) -> None:
        raise TypeError("a cached cassette's interactions can be replaced, not added to")

    def __len__(self) -> int:
        return self._parse.count

    def __iter__(self) -> Iterator[T]:
        # A chunk not loaded is made for the pass and dropped after it: a full pass holds one chunk.
        replaced = self._replaced
        for c, start in enumerate(self._starts):
            items = self._loaded.get(c) or self._chunk(c)
            for offset, item in enumerate(items):
                yield replaced.get(start + offset, item)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def close(self) -> None:
        """Let go of the cache file (the chunks held stay readable; another one is then an error)."""
        self._parse.close()

    def __repr__(self) -> str:
        return f"LazyInteractions({len(self)} interactions, {len(self._loaded)} chunk(s) held)"
