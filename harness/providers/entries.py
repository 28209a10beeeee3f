"""Checks of provider entries (the shipped catalog and `[tool.harness.providers.<name>]`), before any run.

A typo in a provider entry would otherwise pass `compile` and fail only when a function first calls
`paginate()` or retries. Every key is checked at every level: the entry's keys, the `paginate` settings
(type, key names, value types), the `retry` table, and the `${...}` templates (balanced, naming
`connectionConfig.*`, `credentials.*` or a flat credential field). Each problem names the TOML key.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

PAGINATE_TYPES = ("cursor", "link", "offset", "page")
_STRING_KEYS = {"cursor_name_in_request", "cursor_path_in_response", "limit_name_in_request",
                "link_rel_in_response_header", "link_path_in_response_body", "offset_name_in_request",
                "page_name_in_request", "response_path"}
_INT_KEYS = {"limit", "offset_start_value", "page_start_value"}
PAGINATE_KEYS = {"type", "in_body", "offset_calculation_method", *_STRING_KEYS, *_INT_KEYS}
RETRY_KEYS = {"at", "after", "remaining", "error_code", "in_body"}
ENTRY_KEYS = {"auth_mode", "base_url", "token_url", "token_expiration_buffer", "headers", "query", "body",
              "paginate", "retry", "alias"}
AUTH_MODES = {"OAUTH2", "OAUTH2_CC", "APP", "JWT", "BASIC", "API_KEY", "CUSTOM", "NONE", "OAUTH1", "TBA",
              "TWO_STEP", "BILL", "SIGNATURE", "AWS_SIGV4", "APP_STORE"}
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^(connectionConfig\.|credentials\.)?[A-Za-z_][\w-]*(\.[\w-]+)*$")
_ERROR_CODE = re.compile(r"^(\d{3}|\dxx|\d{3}-\d{3})$", re.I)


def _unknown(keys: Any, known: set[str], where: str) -> list[str]:
    out = []
    for key in sorted(str(k) for k in keys):
        if key in known:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        out.append(f"{where}: unknown key {key!r}" + (f" (did you mean {close[0]}?)" if close else
                                                     f" (known: {', '.join(sorted(known))})"))
    return out


def template_problems(value: Any, where: str) -> list[str]:
    """A `${...}` template: a string whose placeholders are closed and name something a connection has."""
    if not isinstance(value, str):
        return [f"{where}: must be a string template, got {value!r}"]
    problems = []
    for name in _PLACEHOLDER.findall(value):
        if not _NAME.match(name.strip()):
            problems.append(f"{where}: placeholder ${{{name}}} is not a name (write ${{connectionConfig.x}}, "
                            "${credentials.x} or ${apiKey})")
    rest = _PLACEHOLDER.sub("", value)
    if "${" in rest:
        problems.append(f"{where}: a placeholder is not closed in {value!r} (write ${{name}})")
    return problems


def _paginate(conf: Any, where: str) -> list[str]:
    if not isinstance(conf, dict):
        return [f"{where}: must be a table"]
    problems = _unknown(conf, PAGINATE_KEYS, where)
    kind = conf.get("type")
    if kind is not None and kind not in PAGINATE_TYPES:
        close = difflib.get_close_matches(str(kind), PAGINATE_TYPES, n=1)
        problems.append(f"{where}.type: {kind!r} is not one of {', '.join(PAGINATE_TYPES)}"
                        + (f" (did you mean {close[0]}?)" if close else ""))
    if kind is None and conf:
        problems.append(f"{where}: has no type (one of {', '.join(PAGINATE_TYPES)})")
    for key in sorted(_STRING_KEYS & set(conf)):
        if not isinstance(conf[key], str) or not conf[key]:
            problems.append(f"{where}.{key}: must be a non-empty string, got {conf[key]!r}")
    for key in sorted(_INT_KEYS & set(conf)):
        if not isinstance(conf[key], int) or isinstance(conf[key], bool) or conf[key] < 0:
            problems.append(f"{where}.{key}: must be a whole number >= 0, got {conf[key]!r}")
    if "in_body" in conf and not isinstance(conf["in_body"], bool):
        problems.append(f"{where}.in_body: must be true or false, got {conf['in_body']!r}")
    method = conf.get("offset_calculation_method")
    if method is not None and method not in ("by-response-size", "per-page"):
        problems.append(f"{where}.offset_calculation_method: {method!r} is not by-response-size or per-page")
    return problems


def _retry(conf: Any, where: str) -> list[str]:
    if not isinstance(conf, dict):
        return [f"{where}: must be a table"]
    problems = _unknown(conf, RETRY_KEYS, where)
    for key in ("at", "after"):
        value = conf.get(key)
        if value is not None and not (isinstance(value, str) or
                                      (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            problems.append(f"{where}.{key}: must be a header name or a list of them, got {value!r}")
    if "remaining" in conf and not isinstance(conf["remaining"], str):
        problems.append(f"{where}.remaining: must be a header name, got {conf['remaining']!r}")
    codes = conf.get("error_code")
    if codes is not None:
        if not isinstance(codes, list):
            problems.append(f"{where}.error_code: must be a list such as [\"429\", \"5xx\", \"500-502\"]")
        else:
            problems += [f"{where}.error_code: {c!r} is not a status, a class (5xx) or a range (500-502)"
                         for c in codes if not _ERROR_CODE.match(str(c))]
    rule = conf.get("in_body")
    if rule is not None:
        if not isinstance(rule, dict):
            problems.append(f"{where}.in_body: must be a table {{path, value, strategy}}")
        else:
            problems += _unknown(rule, {"path", "value", "strategy"}, f"{where}.in_body")
            for key in ("path", "value"):
                if not isinstance(rule.get(key), str) or not rule.get(key):
                    problems.append(f"{where}.in_body.{key}: is required (a string)")
            pattern = rule.get("value")
            if isinstance(pattern, str) and pattern:
                body = pattern[1:pattern.rfind("/")] if pattern.startswith("/") and pattern.rfind("/") > 0 else pattern
                try:
                    re.compile(body)
                except re.error as exc:
                    problems.append(f"{where}.in_body.value: not a regular expression ({exc})")
            if rule.get("strategy") not in (None, "at", "after"):
                problems.append(f"{where}.in_body.strategy: {rule.get('strategy')!r} is not at or after")
    return problems


def entry_problems(name: str, entry: Any, where: str | None = None) -> list[str]:
    """Every problem of one provider entry, each naming its key (`[tool.harness.providers.x] paginate.type`)."""
    where = where or f"[tool.harness.providers.{name}]"
    if not isinstance(entry, dict):
        return [f"{where}: must be a table"]
    problems = _unknown(entry, ENTRY_KEYS, where)
    for key in ("base_url", "token_url"):
        if key in entry:
            problems += template_problems(entry[key], f"{where} {key}")
    for key in ("headers", "query", "body"):
        if key not in entry:
            continue
        table = entry[key]
        if not isinstance(table, dict):
            problems.append(f"{where} {key}: must be a table of name = template")
            continue
        for field, value in table.items():
            if isinstance(value, str):
                problems += template_problems(value, f"{where} {key}.{field}")
            elif key != "body" or not isinstance(value, (int, float, bool)):
                problems.append(f"{where} {key}.{field}: must be a string template, got {value!r}")
    if "paginate" in entry:
        problems += _paginate(entry["paginate"], f"{where} paginate")
    if "retry" in entry:
        problems += _retry(entry["retry"], f"{where} retry")
    buffer = entry.get("token_expiration_buffer")
    if buffer is not None and (not isinstance(buffer, (int, float)) or isinstance(buffer, bool) or buffer < 0):
        problems.append(f"{where} token_expiration_buffer: must be a number of seconds, got {buffer!r}")
    if "alias" in entry and not isinstance(entry["alias"], str):
        problems.append(f"{where} alias: must be a provider name, got {entry['alias']!r}")
    mode = entry.get("auth_mode")
    if mode is not None and mode not in AUTH_MODES:
        close = difflib.get_close_matches(str(mode), sorted(AUTH_MODES), n=1)
        problems.append(f"{where} auth_mode: {mode!r} is not a credential type"
                        + (f" (did you mean {close[0]}?)" if close else ""))
    return problems
