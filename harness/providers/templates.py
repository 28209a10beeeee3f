"""`${...}` templates of the provider catalog (base URLs, auth headers, query parameters).

Names resolve against `connectionConfig.*`, `credentials.*`, and the flat credential fields Nango offers
(`apiKey`, `accessToken`, `username`, `password`...). An unresolved name makes the whole template
unresolved (`None`), so the header or parameter is left out, as Nango does.
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _lookup(path: str, scope: dict[str, Any]) -> Any:
    cur: Any = scope
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def render(template: str, scope: dict[str, Any]) -> str | None:
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        value = _lookup(m.group(1).strip(), scope)
        if value is None or value == "":
            missing = True
            return ""
        return str(value)

    out = _PLACEHOLDER.sub(sub, template)
    return None if missing else out


def render_base_url(template: str, scope: dict[str, Any]) -> str | None:
    """Nango's `A || B`: the first alternative whose placeholders all resolve."""
    for option in template.split("||"):
        rendered = render(option.strip(), scope)
        if rendered is not None:
            return rendered.rstrip("/")
    return None
