"""Secrets: what counts as one, how it is removed from what harness writes down, and the proof that it was.

- `rules.py`: name rules (which headers, parameters, cookie values and token-exchange fields hold
  credentials) and the names that make a context value secret;
- `encodings.py`: every spelling of a value (raw, percent-encoded, base64/base64url, JSON-escaped) and the
  wide text encodings (UTF-16/32) of bodies;
- `matcher.py`: one Aho-Corasick pass over a string for every spelling of every known value;
- `scrubber.py`: the `Scrubber` (rules, then values) used on traffic, URLs and data;
- `context.py`: the cassette's `harness:` context, scrubbed like the traffic;
- `scan.py`: the final scan before a cassette or snapshot is written (one-line refusal naming the place);
- `redact.py`: known secrets turned into placeholders on every output surface (results, store, CLI streams).
"""
