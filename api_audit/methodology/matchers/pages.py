"""Matchers that say whether a page is really public: login walls and soft-200 app shells.

DESIGN.md §4: a redirect to a sign-in page, a 401/403, or a page whose main form is a
password form means "not public", whatever the status code; and a 200 means little when
a random path on the same host answers with the same page.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

from api_audit.methodology.matchers.arguments import Always, read_true
from api_audit.methodology.matchers.context import MatchContext
from api_audit.methodology.matchers.markup import (
    FORM_START,
    HIDDEN_START,
    TAG,
    cut_blocks,
    looks_like_html,
)
from api_audit.methodology.matchers.prose import SCAN_BYTES
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import (
    Verdict,
    behind_sign_in,
    describe_status,
    failed,
    passed,
    unsure,
)
from api_audit.models import Hop
from api_audit.text import quote

# --- not_login_wall ------------------------------------------------------------------------

# Path segments (extension dropped, lower case) that name a sign-in step.
_SIGN_IN_SEGMENTS = frozenset(
    {
        "login",
        "log-in",
        "log_in",
        "logon",
        "signin",
        "sign-in",
        "sign_in",
        "wp-login",
        "sso",
        "saml",
        "saml2",
        "adfs",
        "authorize",
    }
)
# Identity-provider hosts (exact, or a suffix after a dot).
_SIGN_IN_HOSTS = (
    "login.microsoftonline.com",
    "login.live.com",
    "login.windows.net",
    "accounts.google.com",
    "login.salesforce.com",
)
_SIGN_IN_HOST_SUFFIXES = (
    ".okta.com",
    ".oktapreview.com",
    ".okta-emea.com",
    ".auth0.com",
    ".b2clogin.com",
    ".onelogin.com",
    ".amazoncognito.com",
)
# First DNS label of a host that is only a sign-in service.
_SIGN_IN_LABELS = frozenset({"login", "signin", "sso", "auth", "idp", "adfs", "accounts"})
_PAGE_TEXT_LIMIT = 1500  # a page with this little text besides a password form is a sign-in page
_PASSWORD_INPUT = re.compile(r"<input\b[^<>]*?\btype\s*=\s*[\"']?password\b")


def sign_in_url(url: str) -> bool:
    """Whether a URL looks like a sign-in page (DESIGN.md §4 "Login walls")."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if host in _SIGN_IN_HOSTS or host.endswith(_SIGN_IN_HOST_SUFFIXES):
        return True
    if host.split(".", 1)[0] in _SIGN_IN_LABELS and host.count(".") >= 2:
        return True
    segments = [s.lower().split(".", 1)[0] for s in parts.path.split("/") if s]
    if segments and segments[0] == "auth":  # /auth, /auth/realms/... (Keycloak)
        return True
    return any(s in _SIGN_IN_SEGMENTS for s in segments)


def sign_in_redirect(redirects: Sequence[Hop]) -> str | None:
    """The first redirect target that looks like a sign-in page, as an absolute URL."""
    for hop in redirects:
        target = urljoin(hop.url, hop.location)
        if sign_in_url(target):
            return target
    return None


def _password_form_is_main(ctx: MatchContext) -> bool:
    """An HTML page whose main content is a password form (a sign-in page)."""
    lower = ctx.text().lower()
    if "password" not in lower or not (looks_like_html(ctx.exchange) or lower.lstrip()[:1] == "<"):
        return False
    shown, _ = cut_blocks(lower, HIDDEN_START, "script")
    if not _PASSWORD_INPUT.search(shown):
        return False
    outside_forms, _ = cut_blocks(shown, FORM_START, "form")
    text = " ".join(TAG.sub(" ", outside_forms).split())
    return len(text) < _PAGE_TEXT_LIMIT


@matcher(
    "not_login_wall",
    read=read_true,
    argument="true",
    doc="Not a login wall: no 401/403, no redirect to or URL of a sign-in page, "
    "no page that is mainly a password form.",
)
def match_not_login_wall(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if ex.status in (401, 403, 407):
        return behind_sign_in(f"{describe_status(ex.status)}: needs an account", "status")
    target = sign_in_redirect(ex.redirects)
    if target is not None:
        return behind_sign_in(f"redirected to a sign-in page at {quote(target)}", "redirect")
    if ex.final_url and sign_in_url(ex.final_url):
        message = f"the page is a sign-in page at {quote(ex.final_url)}"
        return behind_sign_in(message, "sign_in_url")
    if _password_form_is_main(ctx):
        message = "the page is a sign-in form (it asks for a password)"
        return behind_sign_in(message, "password_form")
    return passed("no sign-in page or password form")


# --- not_soft_200 --------------------------------------------------------------------------

SOFT_200_SIMILARITY = 0.9  # token overlap at or above this = "the same page"
_TOKEN = re.compile(r"\w+|[^\w\s]")


def page_similarity(a: bytes, b: bytes) -> float:
    """0-1 overlap of two bodies' tokens (difflib quick_ratio on the token multisets).

    Token overlap is linear in the body size and ignores a request id or path echoed
    into an otherwise identical app shell.
    """
    ta = _TOKEN.findall(a[:SCAN_BYTES].decode("utf-8", "replace").lower())
    tb = _TOKEN.findall(b[:SCAN_BYTES].decode("utf-8", "replace").lower())
    if ta == tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    return difflib.SequenceMatcher(None, ta, tb, autojunk=False).quick_ratio()


@matcher(
    "not_soft_200",
    read=read_true,
    argument="true",
    doc="Not the page a random path on the same host also answers with 2xx "
    "(needs `compare_random_path: true`).",
)
def match_not_soft_200(_: Always, ctx: MatchContext) -> Verdict:
    base = ctx.baseline
    if base is None:
        return unsure("no random-path response to compare with")
    if base.error is not None or base.status is None:
        return unsure(f"could not fetch a random path to compare with: {quote(base.error_detail)}")
    if not 200 <= base.status < 300:
        return passed(f"a random path answers {describe_status(base.status)}")
    status = ctx.exchange.status
    if status is None or not 200 <= status < 300:
        return passed("not a 2xx response, so not a soft-200")
    if page_similarity(ctx.exchange.body, base.body) >= SOFT_200_SIMILARITY:
        return failed("same page as a random path: a soft-200 app shell")
    return passed("differs from a random path on the same host")
