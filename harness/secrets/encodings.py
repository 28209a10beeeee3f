"""Every spelling of a secret value, and the wide text encodings of bodies.

A value is looked for (and replaced) as it is and as a client or a server may have encoded it:
- percent-encoded, upper- and lower-case hex, `%20` or `+` for a space, with Python's and JavaScript's
  sets of unescaped characters (`quote`, `encodeURIComponent`, `encodeURI`);
- JSON-escaped (`\\"`, `\\\\`, `\\uXXXX` for non-ASCII or not, `\\/`), and escaped twice (JSON in JSON);
- base64 and base64url, also inside a longer encoded value (`base64("acct:" + token)`, a Basic
  `user:pass` pair): base64 maps 3 bytes to 4 characters, so a value at byte offset 0, 1 or 2 of the
  encoded text always produces one of 3 fixed runs of characters (its "cores"), whatever surrounds it;
- UTF-16 and UTF-32 bodies are decoded (`wide_codec`) and scrubbed as text, then encoded back.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

RAW = "raw"
PERCENT = "percent-encoded"
JSON_ESCAPED = "JSON-escaped"
BASE64 = "base64"
BASE64URL = "base64url"

# What JavaScript leaves unescaped beyond Python's `quote` (which keeps `_.-~`).
_JS_COMPONENT = "!'()*"
_JS_URI = ";,/?:@&=+$#!'()*"
_HEX = re.compile(r"%[0-9A-F]{2}")
# Where base64 starts a fresh 4-character group after k bytes of unknown prefix, and how many characters
# of the final partial group depend only on the value's own bytes.
_CORE_START = (0, 2, 3)
_TAIL_CHARS = (0, 1, 2)


def _lower_hex(text: str) -> str:
    return _HEX.sub(lambda m: m.group(0).lower(), text)


_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")
_JSON_PLAIN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but `"` and `\`


def percent_forms(value: str) -> set[str]:
    if _UNRESERVED.fullmatch(value):
        return {value}
    forms: set[str] = set()
    for safe in ("", "/", _JS_COMPONENT, _JS_URI):
        for encoded in (quote(value, safe=safe), quote_plus(value, safe=safe)):
            forms.add(encoded)
            forms.add(_lower_hex(encoded))
    return forms


def json_forms(value: str) -> set[str]:
    if _JSON_PLAIN.fullmatch(value) and "/" not in value:
        return {value}
    forms: set[str] = set()
    for ascii_only in (True, False):
        once = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms.update({once, once.replace("/", "\\/"), json.dumps(once, ensure_ascii=ascii_only)[1:-1]})
    return forms


def b64_cores(raw: bytes) -> set[str]:
    """The runs of base64 characters that any base64 text containing `raw` holds, for each byte offset."""
    cores: set[str] = set()
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + raw).decode("ascii").rstrip("=")
        total = k + len(raw)
        end = (total // 3) * 4 + _TAIL_CHARS[total % 3]
        core = encoded[_CORE_START[k]:end]
        if len(core) >= 6:
            cores.add(core)
    return cores


def variants(value: str) -> list[tuple[str, str]]:
    """(spelling, encoding) for every spelling of `value` worth looking for; the raw one first."""
    out: dict[str, str] = {value: RAW}
    for form in sorted(percent_forms(value)):
        out.setdefault(form, PERCENT)
    for form in sorted(json_forms(value)):
        out.setdefault(form, JSON_ESCAPED)
    for core in sorted(b64_cores(value.encode("utf-8"))):
        out.setdefault(core, BASE64)
        url_core = core.replace("+", "-").replace("/", "_")
        out.setdefault(url_core, BASE64URL)
    return list(out.items())


# A maximal run of base64 or base64url characters (with its padding).
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]+=*")


def b64_blob_at(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole base64 run around text[start:end] (a core found inside a longer encoded value)."""
    for m in _B64_RUN.finditer(text, max(0, start - 4096), min(len(text), end + 4096)):
        if m.start() <= start and m.end() >= end:
            return m.start(), m.end()
    return start, end


def b64_decode(blob: str) -> tuple[bytes, bool | None, bool] | None:
    """(bytes, urlsafe, padded) of a base64 or base64url text, or None when it is not one. `urlsafe` is
    None when the text has no character telling the two alphabets apart."""
    url_chars, std_chars = "-" in blob or "_" in blob, "+" in blob or "/" in blob
    if url_chars and std_chars:
        return None
    urlsafe = True if url_chars else False if std_chars else None
    # Without `=` and with a length that needed none, the padding is unknown: encoders pad by default,
    # base64url tokens (JWTs) do not.
    padded = blob.endswith("=") or (len(blob) % 4 == 0 and not url_chars)
    body = blob.rstrip("=")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_" if url_chars else None, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw, urlsafe, padded


def b64_encode(raw: bytes, urlsafe: bool, padded: bool) -> str:
    text = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode("ascii")
    return text if padded else text.rstrip("=")


WIDE_CODECS = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"),
         (b"\xfe\xff", "utf-16-be"))
_CHARSET = re.compile(r"charset=[\"']?utf-?(16|32)(?:-?([lb]e))?", re.IGNORECASE)


def _by_nuls(data: bytes) -> str | None:
    head = data[:64]
    if len(head) < 4 or 0 not in head:
        return None
    quarter = len(head) // 4
    nuls = [head[i::4].count(0) for i in range(4)]
    if nuls[1] == nuls[2] == nuls[3] == quarter and nuls[0] < quarter:
        return "utf-32-le"
    if nuls[0] == nuls[1] == nuls[2] == quarter and nuls[3] < quarter:
        return "utf-32-be"
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > quarter and even == 0:
        return "utf-16-le"
    if even > quarter and odd == 0:
        return "utf-16-be"
    return None


def wide_codec(data: bytes, content_type: str | None = None) -> tuple[str, bytes] | None:
    """(codec, BOM) of a UTF-16/32 body, by its BOM, its declared charset or its NUL bytes; None if narrow."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, bom
    declared = _CHARSET.search(content_type or "")
    guessed = _by_nuls(data)
    if declared:
        width, order = declared.group(1), (declared.group(2) or "").lower()
        if order:
            return f"utf-{width}-{order}", b""
        if guessed and guessed.startswith(f"utf-{width}"):
            return guessed, b""
        return f"utf-{width}-be", b""  # RFC 2781: big-endian without a BOM
    return (guessed, b"") if guessed else None


def wide_views(data: bytes) -> Iterator[tuple[str, str]]:
    """(codec, text) of `data` read as each UTF-16/32 flavour, at each alignment (for the final scan)."""
    for codec in WIDE_CODECS:
        width = 4 if "32" in codec else 2
        for offset in range(width):
            chunk = data[offset:]
            chunk = chunk[: len(chunk) - len(chunk) % width]
            text = chunk.decode(codec, "ignore")
            if text:
                yield codec.upper(), text
