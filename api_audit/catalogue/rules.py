"""What each catalogue value may be: ids, slugs, dates, URLs and their placeholders.

The loader checks values against these rules and the JSON Schema describes them; the
probe loader shares the probe id rule (a reply's `about` may name a probe).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SCHEMA_VERSION = 1
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# An instance slug is a host label or path segment: dots and underscores allowed, no '/'.
INSTANCE_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PROBE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Eight characters: two digits or a prefix such as SC, NI, OC; then six digits.
COMPANIES_HOUSE_RE = re.compile(r"^[A-Z0-9]{2}[0-9]{6}$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
PLACEHOLDERS = ("slug", "gss", "code")
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
MAX_SHORT_VALUE = 120  # an attestation's string value is a word or phrase, not prose

SLUG_RULE = "use lower-case letters, digits and '-', starting with a letter or digit"
INSTANCE_SLUG_RULE = "use letters, digits, '.', '-' and '_', starting with a letter or digit"
PROBE_ID_RULE = "use lower-case letters, digits, '-' and '_', starting with a letter or digit"


def url_problem(url: str, *, placeholders: bool = False) -> str | None:  # noqa: PLR0911 - one return per rule
    """Why `url` is not an absolute http(s) URL we may fetch, or None when it is."""
    if any(c.isspace() for c in url) or not url.isprintable():
        return "must not contain spaces or control characters"
    if placeholders:
        for name in PLACEHOLDER_RE.findall(url):
            if name not in PLACEHOLDERS:
                return f"unknown placeholder {{{name}}} (use {{slug}}, {{gss}} or {{code}})"
        url = PLACEHOLDER_RE.sub("x", url)
    if "{" in url or "}" in url:
        return "placeholders are allowed only in endpoints, url_template and instance URLs"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a well-formed URL"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if "@" in parts.netloc:
        return "must not contain a user name or password"
    if not parts.hostname:
        return "has no host"
    return None


def has_placeholders(url: str) -> bool:
    """Whether `url` holds a {name} placeholder still to be filled."""
    return PLACEHOLDER_RE.search(url) is not None
