"""Parse untrusted XML from servers into a small frozen tree, with limits.

Open311 GeoReport v2 requires XML (JSON is optional) and FHIR servers may answer in XML,
so the standards matchers need to read it. The rules are defusedxml's, kept without the
dependency: a document type declaration is refused outright (no entity can expand into a
billion laughs or read a file, and no standard read here needs a DTD); size, nesting depth
and element count are capped while parsing; text kept per element is capped. Expat reads
the bytes (it honours the encoding declaration and a byte order mark) and the tree is built
with an explicit stack, so nothing recurses. No network or file access, ever.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from api_audit.methodology.documents import MAX_DEPTH, UnsafeDocument

MAX_XML_BYTES = 4 * 1024 * 1024
MAX_XML_ELEMENTS = 200_000
MAX_TEXT_CHARS = 4096  # text kept per element: values, not documents, are what is read


@dataclass(frozen=True)
class XmlElement:
    """One element: its local name and namespace, attributes, text and child elements."""

    name: str
    namespace: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    text: str = ""
    children: tuple[XmlElement, ...] = field(default=(), repr=False)

    def child(self, name: str) -> XmlElement | None:
        """The first child element with this local name."""
        return next((c for c in self.children if c.name == name), None)

    def all(self, name: str) -> list[XmlElement]:
        """Every child element with this local name, in document order."""
        return [c for c in self.children if c.name == name]

    def attribute(self, name: str) -> str | None:
        return next((value for key, value in self.attributes if key == name), None)


class _Builder:
    """Expat callbacks that build the tree on a stack and enforce the limits."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, dict[str, str], list[str], list[XmlElement]]] = []
        self.root: XmlElement | None = None
        self.elements = 0

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > MAX_XML_ELEMENTS:
            raise UnsafeDocument(f"XML with more than {MAX_XML_ELEMENTS} elements")
        if len(self.stack) >= MAX_DEPTH:
            raise UnsafeDocument(f"XML nested deeper than {MAX_DEPTH} levels")
        self.stack.append((tag, attributes, [], []))

    def end(self, _: str) -> None:
        tag, attributes, text, children = self.stack.pop()
        namespace, _sep, name = tag.rpartition(" ")
        element = XmlElement(
            name=name,
            namespace=namespace,
            attributes=tuple((k.rpartition(" ")[2], v) for k, v in attributes.items()),
            text="".join(text).strip(),
            children=tuple(children),
        )
        if self.stack:
            self.stack[-1][3].append(element)
        else:
            self.root = element

    def characters(self, data: str) -> None:
        if self.stack:
            text = self.stack[-1][2]
            if sum(map(len, text)) < MAX_TEXT_CHARS:
                text.append(data[:MAX_TEXT_CHARS])


def _refuse_dtd(*_: object) -> None:
    raise UnsafeDocument("XML with a document type declaration (refused: entities)")


def parse_xml(body: bytes) -> XmlElement:
    """Parse an XML body into its root element; raise UnsafeDocument."""
    if len(body) > MAX_XML_BYTES:
        raise UnsafeDocument(f"XML larger than {MAX_XML_BYTES} bytes")
    builder = _Builder()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.characters
    parser.buffer_text = True
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) or "invalid"
        raise UnsafeDocument(
            f"not valid XML: {reason} at line {exc.lineno}, column {exc.offset + 1}"
        ) from None
    if builder.root is None:
        raise UnsafeDocument("not valid XML: no root element")
    return builder.root
