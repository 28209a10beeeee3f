"""When to retry a provider call and how long to wait first, following Nango's proxy.

Retries default to 0. A status is retryable when the provider's `retry.error_code` list allows it (forms:
`"403"`, `"5xx"`, `"500-502"`), else when it is >= 500, 429 or 401; `retry_on` adds statuses; a provider
`retry.remaining` header at `"0"` makes any status retryable. The wait is the longest of the provider's
`retry.at` (reset time) and `retry.after` headers, plus the standard `Retry-After` (seconds or HTTP date),
then the provider's `retry.in_body` (a regex over a string of the error body), else
`min(3 s * 2**attempt, 600 s)`. Header and body waits are not capped (as in Nango).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ..providers.catalog import Provider
from ..retry_after import retry_after_seconds

MAX_BACKOFF_S = 600.0
BASE_BACKOFF_S = 3.0


def _code_matches(rule: str, status: int) -> bool:
    rule = rule.strip().lower()
    if rule.endswith("xx") and rule[:-2].isdigit():
        return status // 100 == int(rule[:-2])
    if "-" in rule:
        low, _, high = rule.partition("-")
        return low.isdigit() and high.isdigit() and int(low) <= status <= int(high)
    return rule.isdigit() and int(rule) == status


def is_retryable(response: httpx.Response, provider: Provider, retry_on: list[int] | None) -> bool:
    status = response.status_code
    if 200 <= status < 300:
        return False
    rules = provider.retry.get("error_code")
    if isinstance(rules, list) and rules:
        retryable = any(_code_matches(str(r), status) for r in rules)
    else:
        retryable = status >= 500 or status in (429, 401)
    if retry_on and status in retry_on:
        retryable = True
    remaining = provider.retry.get("remaining")
    if isinstance(remaining, str) and response.headers.get(remaining) == "0":
        retryable = True
    return retryable


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _reset_wait(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                return None
    else:
        if not math.isfinite(number) or not 0 <= number <= 1e15:
            return None  # `inf`, `nan` or absurd: not a reset time (an endless wait would hang the run)
        # Nango's rule: a number is milliseconds when read as such it lands after 1971, else seconds.
        when = number / 1000 if datetime.fromtimestamp(min(number / 1000, 4e9), UTC).year > 1971 else number
    return float(when - now) if when > now else None


def _after_wait(value: str, now: float) -> float | None:
    # One reading of Retry-After (seconds or HTTP date) for provider retries and deploy delivery.
    return retry_after_seconds(value, now)


def wait_seconds(response: httpx.Response | None, provider: Provider, attempt: int, now: float) -> float:
    """How long to wait before retry number `attempt + 1`."""
    waits: list[float] = []
    if response is not None:
        for name in _as_list(provider.retry.get("at")):
            value = response.headers.get(name)
            if value is not None and (w := _reset_wait(value, now)) is not None:
                waits.append(float(int(w) + (w > int(w))))
        for name in {*_as_list(provider.retry.get("after")), "retry-after"}:
            value = response.headers.get(name)
            if value is not None and (w := _after_wait(value, now)) is not None:
                waits.append(w)
    if waits:
        return max(waits)
    if response is not None and (w := _body_wait(response, provider, now)) is not None:
        return w
    return float(min(BASE_BACKOFF_S * (2 ** attempt), MAX_BACKOFF_S))


def _body_wait(response: httpx.Response, provider: Provider, now: float) -> float | None:
    rule = provider.retry.get("in_body")
    if not isinstance(rule, dict) or not rule.get("path") or not rule.get("value"):
        return None
    from .pagination import get_path

    try:
        text = get_path(response.json(), str(rule["path"]))
    except ValueError:
        return None
    if not isinstance(text, str):
        return None
    pattern = str(rule["value"])
    if len(pattern) > 1 and pattern.startswith("/") and pattern.rfind("/") > 0:
        pattern = pattern[1:pattern.rfind("/")]  # a JavaScript /regex/flags literal
    match = re.search(pattern, text)
    if match is None or not match.groups():
        return None
    value = match.group(1).strip()
    if rule.get("strategy") == "after":
        return _after_wait(value, now)
    wait = _reset_wait(value, now)
    return None if wait is None else float(int(wait) + (wait > int(wait)))
