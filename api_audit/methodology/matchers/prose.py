"""A page cut to the sentences a reader takes as its content, each placed under its heading.

Wording probes judge only what a page says about the API (issue 11, item 2), so site
chrome is left out before any phrase is read: `nav`, `aside`, a site `header` (one outside
`main`/`article`/`section`), every `footer`, newsletter forms, and any element whose id,
class, role or aria-label says cookie, consent, banner, newsletter, subscribe, menu,
breadcrumb, footer, nav or sidebar (WAI-ARIA landmarks: banner, navigation, contentinfo,
complementary, search), hidden elements, and `script`/`style`/`template`/`noscript`.
When the page has a `main` (or role="main"), only the text inside it is read.

Each sentence remembers the headings above it (h1-h6, or Markdown `#` lines in a
plain-text page), so a matcher can ask whether the sentence or its section names the API.

Hostile input is scanned in linear time with forward-only searches (html.parser is
quadratic on some: see markup.py) and only its first SCAN_BYTES are read:
`MatchContext.prose` cuts the body before it reaches this module, and `read_html` and
`read_text` cut again for any other caller. The tag stack and the sentences kept are
capped, and anything nested deeper than the cap is dropped rather than believed.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field

# HTML and text heuristics look at the start of a body only: this many bytes of it (and
# read_html/read_text at most this many characters of any text they are given).
SCAN_BYTES = 512 * 1024
MAX_DEPTH = 256  # tracked elements open at once; deeper text is not read
MAX_SENTENCES = 20_000
MAX_BLOCK_CHARS = 20_000  # a block with no punctuation is cut into pieces this long

# --- what "about the API" means ------------------------------------------------------------

_API_WORDS = (
    r"apis?|api[- ]?keys?|application programming interfaces?|developers?|"
    r"integrations?|integrat(?:e|es|ed|ing)|interoperab\w*|web ?services?|endpoints?|"
    r"openapi|open api|swagger|sdks?|webhooks?|data access|access (?:to )?(?:your |the |our )?"
    r"data|data feeds?|open data|rest(?:ful)? api|graphql|odata|open311|oauth2?|connectors?"
)
API_WORDS = re.compile(rf"(?<!\w)(?:{_API_WORDS})(?!\w)")


def names_api(lower: str) -> bool:
    """Whether lower-case text names an API, integration, developers or data access."""
    return API_WORDS.search(lower) is not None


# --- the result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    """One sentence of a page's content, as written (`text`) and for matching (`lower`:
    lower case, quotes and dashes made plain, whitespace collapsed)."""

    text: str
    lower: str
    heading: str = ""  # the headings above it, outermost first, " / " between, lower case
    is_heading: bool = False
    in_main: bool = False


@dataclass(frozen=True)
class Prose:
    title: str = ""  # <title>, lower case
    first_h1: str = ""  # the first h1 (or Markdown "# "), lower case
    sentences: tuple[Sentence, ...] = ()
    links: tuple[str, ...] = ()  # href values of links in the content, as written

    @property
    def about_api(self) -> bool:
        """The page as a whole is about the API: its title or first h1 names it."""
        return names_api(self.title) or names_api(self.first_h1)


# --- reading HTML --------------------------------------------------------------------------

_TOKEN = re.compile(
    r"<!--|<(script|style|template|noscript|textarea|title|svg|math|iframe|object)(?=[\s/>])"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,40})([^<>]*)>|<[!?][^<>]*>",
    re.I,
)
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# Elements whose end tag may be left out (HTML §13.1.2.4): never tracked on the stack.
_OPTIONAL_END = frozenset(
    ["p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot"]
)
_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "button",
        "label",
        "select",
    ]
)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
# Opening one of these ends a heading left unclosed, so one missing </h1> cannot make the
# rest of the page a heading.
_ENDS_HEADING = _HEADINGS | frozenset(
    ["p", "ul", "ol", "dl", "table", "section", "article", "main", "pre", "form"]
)
_CONTENT = frozenset(("main", "article", "section"))
_ALWAYS_DROPPED = frozenset(("nav", "aside", "footer", "select", "dialog"))
_BOILERPLATE_ROLES = frozenset(
    ("banner", "navigation", "contentinfo", "complementary", "search", "menu", "menubar")
)
# Stems a word of id/class/aria-label starts with, for chrome ("navbar", "cookieConsent").
_BOILERPLATE_STEMS = (
    "cookie", "consent", "gdpr", "newsletter", "subscribe", "mailing", "menu", "breadcrumb",
    "footer", "nav", "sidebar", "masthead",
)  # fmt: skip
_BOILERPLATE_WORDS = frozenset(("skip", "social", "share", "sharing", "promo", "promotion"))
_ATTRIBUTE = re.compile(
    r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
)
_WORD_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_FORM_TARGETS = re.compile(r"newsletter|subscri|mailchimp|list-manage|mailing", re.I)

# Characters that hide or split words without being seen (zero-width, soft hyphen, bidi):
# removed before matching, so "sign\u00adup" reads as "signup" (text.py's UNSAFE, format).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# A whole terminal escape (CSI, OSC or a two-byte one) goes, as text.quote drops it.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_PLAIN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"',
     "\u201d": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
     "\u2014": "-", "\u00a0": " "}
)  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def attributes(inside: str) -> dict[str, str]:
    """A start tag's attributes (names lower case, values unescaped); at most 2,000 chars read."""
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(inside[:2000]):
        name, value = match.group(1).lower(), match.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        found.setdefault(name, html.unescape(value))
    return found


def is_chrome(name: str, attrs: dict[str, str], *, inside_content: bool = False) -> bool:
    """Whether an element is site chrome or hidden, by its name and attributes.

    A `header` or a "banner" inside main/article/section is that content's own (its title
    lives there), as WAI-ARIA reads them; outside, they are the site's.
    """
    named = " ".join(attrs.get(key, "") for key in ("id", "class", "aria-label"))
    words = [part.lower() for part in _WORD_PARTS.findall(named)]
    return (
        name in _ALWAYS_DROPPED
        or (name == "header" and not inside_content)
        or _hidden(attrs)
        or attrs.get("role", "").strip().lower() in _BOILERPLATE_ROLES
        or (name == "form" and _FORM_TARGETS.search(attrs.get("action", "")) is not None)
        or (not inside_content and any(word.startswith("banner") for word in words))
        or any(w.startswith(_BOILERPLATE_STEMS) or w in _BOILERPLATE_WORDS for w in words)
    )


def _hidden(attrs: dict[str, str]) -> bool:
    """Hidden from every reader: `hidden`, aria-hidden="true", or display:none in a style."""
    return (
        "hidden" in attrs
        or attrs.get("aria-hidden", "").strip().lower() == "true"
        or _HIDDEN_STYLE.search(attrs.get("style", "")) is not None
    )


@functools.lru_cache(maxsize=16)
def _closing(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{name}\s*>", re.I)


def plain(text: str) -> str:
    """Text as it is matched: invisible characters gone, controls made spaces, quotes and
    dashes plain, lower case, whitespace collapsed."""
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", _ESCAPE.sub("", text))).translate(_PLAIN)
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class _Open:
    name: str
    chrome: bool
    content: bool  # main, article or section: a header inside is the content's own
    main: bool


@dataclass
class _Reader:
    """The state of one linear pass over a page (internal and mutable; never escapes)."""

    stack: list[_Open] = field(default_factory=list)
    open_names: dict[str, int] = field(default_factory=dict)
    chrome: int = 0  # chrome elements open
    content: int = 0  # main/article/section open
    main: int = 0  # main (or role=main) open
    overflow: int = 0  # elements opened past MAX_DEPTH
    drop_block: bool = False  # an optional-end element that is chrome, until its block ends
    heading_level: int = 0  # inside h1-h6 when > 0
    headings: list[str] = field(default_factory=lambda: [""] * 6)
    buffer: list[str] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    title: str = ""
    first_h1: str = ""
    saw_main: bool = False

    @property
    def dropped(self) -> bool:
        return bool(self.chrome or self.overflow or self.drop_block)

    def text(self, raw: str) -> None:
        if not self.dropped and raw:
            self.buffer.append(html.unescape(raw) if "&" in raw else raw)

    def flush(self) -> None:
        if self.heading_level:
            return  # a heading is kept whole until it closes
        written = "".join(self.buffer)
        self.buffer = []
        for piece in _pieces(written):
            self._add(piece, is_heading=False)

    def _add(self, piece: str, *, is_heading: bool) -> None:
        lower = plain(piece)
        if lower and len(self.sentences) < MAX_SENTENCES:
            heading = self.heading_path()
            shown = " ".join(piece.split())
            self.sentences.append(Sentence(shown, lower, heading, is_heading, self.main > 0))

    def heading_path(self) -> str:
        return " / ".join(h for h in self.headings if h)

    def open(self, name: str, attrs: dict[str, str]) -> None:
        if self.heading_level and name in _ENDS_HEADING:
            self.close_heading()  # an unclosed heading ends where a new block starts
        if name in _BLOCK:
            self.flush()
        role = attrs.get("role", "").strip().lower()
        chrome = is_chrome(name, attrs, inside_content=self.content > 0)
        if name in _OPTIONAL_END:
            self.drop_block = chrome
            return
        if len(self.stack) >= MAX_DEPTH:
            self.overflow += 1
            return
        is_main = name == "main" or role == "main"
        entry = _Open(name, chrome, name in _CONTENT or is_main, is_main)
        self.saw_main = self.saw_main or is_main
        self.stack.append(entry)
        self.open_names[name] = self.open_names.get(name, 0) + 1
        self.chrome += entry.chrome
        self.content += entry.content
        self.main += entry.main
        if name in _HEADINGS and not self.dropped:
            self.heading_level = int(name[1])
        if name == "a" and not self.dropped and attrs.get("href") and len(self.links) < 1000:
            self.links.append(attrs["href"])

    def close(self, name: str) -> None:
        if name in _HEADINGS and self.heading_level:
            self.close_heading()
        elif name in _BLOCK:
            self.flush()
            self.drop_block = False
        if self.overflow:
            self.overflow -= 1
            return
        if not self.open_names.get(name):
            return  # a stray end tag
        while self.stack:
            entry = self.stack.pop()
            self.open_names[entry.name] -= 1
            self.chrome -= entry.chrome
            self.content -= entry.content
            self.main -= entry.main
            if entry.name == name:
                break

    def close_heading(self) -> None:
        level, self.heading_level = self.heading_level, 0
        written = " ".join("".join(self.buffer).split())
        self.buffer = []
        if not written:
            return
        lower = plain(written)
        self.headings[level - 1 :] = [lower[:200]] + [""] * (6 - level)
        if level == 1 and not self.first_h1:
            self.first_h1 = lower[:200]
        self._add(written[:MAX_BLOCK_CHARS], is_heading=True)


def _pieces(written: str) -> list[str]:
    """A block's text cut into sentences (and over-long runs into MAX_BLOCK_CHARS pieces)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(written):
        for start in range(0, len(sentence), MAX_BLOCK_CHARS):
            piece = sentence[start : start + MAX_BLOCK_CHARS]
            if piece.strip():
                pieces.append(piece)
    return pieces


def read_html(page: str) -> Prose:
    """The content of a web page: its sentences under their headings, chrome left out."""
    page = page[:SCAN_BYTES]
    reader = _Reader()
    pos = 0
    while True:
        token = _TOKEN.search(page, pos)
        if token is None:
            reader.text(page[pos:])
            break
        reader.text(page[pos : token.start()])
        pos = _read_token(reader, page, token)
    reader.flush()
    if reader.heading_level:
        reader.close_heading()
    sentences = tuple(reader.sentences)
    if reader.saw_main:
        sentences = tuple(s for s in sentences if s.in_main)
    return Prose(reader.title, reader.first_h1, sentences, tuple(reader.links))


def _read_token(reader: _Reader, page: str, token: re.Match[str]) -> int:
    """Act on one token; return where reading goes on."""
    whole = token.group(0)
    if whole == "<!--":
        end = page.find("-->", token.end())
        return len(page) if end < 0 else end + 3
    raw = token.group(1)
    if raw is not None:
        name = raw.lower()
        opened = page.find(">", token.end())
        start = len(page) if opened < 0 else opened + 1
        closing = _closing(name).search(page, start)
        end = len(page) if closing is None else closing.start()
        if name == "title" and not reader.title:
            reader.title = plain(html.unescape(page[start:end][:1000]))
        return len(page) if closing is None else closing.end()
    name = token.group(3)
    if name is None:
        return token.end()  # <!doctype>, <?xml ...?>, <![CDATA[ ...
    name = name.lower()
    if token.group(2):
        reader.close(name)
    elif name in _VOID or token.group(4).rstrip().endswith("/"):
        if name in _BLOCK:
            reader.flush()
    else:
        reader.open(name, attributes(token.group(4)))
    return token.end()


# --- reading plain text ----------------------------------------------------------------------

_MARKDOWN_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")


def read_text(page: str) -> Prose:
    """The content of a plain-text page: paragraphs cut into sentences, `#` lines headings."""
    page = page[:SCAN_BYTES]
    sentences: list[Sentence] = []
    headings = [""] * 6
    heading, first_h1 = "", ""
    paragraph: list[str] = []

    def flush() -> None:
        for piece in _pieces(" ".join(paragraph)):
            lower = plain(piece)
            if lower and len(sentences) < MAX_SENTENCES:
                sentences.append(Sentence(" ".join(piece.split()), lower, heading))
        paragraph.clear()

    for line in page.splitlines():
        marked = _MARKDOWN_HEADING.match(line)
        if marked is None and line.strip():
            paragraph.append(line)
            continue
        flush()
        if marked is not None:
            level, lower = len(marked.group(1)), plain(marked.group(2))[:200]
            headings[level - 1 :] = [lower] + [""] * (6 - level)
            heading = " / ".join(h for h in headings if h)
            first_h1 = first_h1 or (lower if level == 1 else "")
            sentences.append(Sentence(marked.group(2).strip(), lower, heading, True))
    flush()
    return Prose("", first_h1, tuple(sentences))
