"""`Retry-After` (RFC 9110, section 10.2.3): how long a server asks to wait, read the same way everywhere.

Provider retries (`http/retry.py`) and deploy delivery (`packaging/deploy.py`) both read the header here.
Its two forms: delay-seconds (`120`; a fraction such as `1.5` is accepted too, as many servers send one)
and an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`; the obsolete RFC 850 and asctime forms also parse). A
date in the past means no wait. Anything else (`soon`, `-1`, `inf`, `nan`, `1e9`, an empty value) is not a
wait at all: None, and the caller falls back to its own backoff. Callers cap the result where they must.
"""

from __future__ import annotations

import math
import re
from datetime import UTC
from email.utils import parsedate_to_datetime

# Digits only (no sign, exponent, inf or nan), at most 12 before the point: always a finite float.
_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")


def retry_after_seconds(value: str | bytes | None, now: float) -> float | None:
    """Seconds to wait from `now` (epoch seconds) for a `Retry-After` value, or None when it is not one."""
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # an HTTP date is always GMT
    try:
        wait = when.timestamp() - now
    except (OverflowError, OSError, ValueError):
        return None
    return max(0.0, wait) if math.isfinite(wait) else None
