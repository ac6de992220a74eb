"""The XML reader: a small frozen tree, no DTDs or entities, bounded size, depth and count."""

from __future__ import annotations

import pytest

from api_audit.methodology.documents import UnsafeDocument
from api_audit.methodology.xml_reader import (
    MAX_TEXT_CHARS,
    MAX_XML_BYTES,
    MAX_XML_ELEMENTS,
    XmlElement,
    parse_xml,
)


def test_names_namespaces_attributes_text_and_children() -> None:
    root = parse_xml(
        b'<?xml version="1.0"?><r xmlns="urn:a" xmlns:b="urn:b" b:x="1">'
        b"<c>one</c><b:c>two</b:c><c>three &amp; more</c></r>"
    )
    assert (root.name, root.namespace, root.attribute("x")) == ("r", "urn:a", "1")
    assert [c.text for c in root.all("c")] == ["one", "two", "three & more"]
    assert root.child("c") == XmlElement("c", "urn:a", (), "one")
    assert root.child("missing") is None


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0" encoding="UTF-16"?><r>é</r>'.encode("utf-16"),
        b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe9</r>',
        b"\xef\xbb\xbf<r>\xc3\xa9</r>",
    ],
)
def test_encodings_are_honoured(body: bytes) -> None:
    assert parse_xml(body).text == "é"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'<!DOCTYPE r [<!ENTITY a "x">]><r>&a;</r>', "document type declaration"),
        (b'<!DOCTYPE r SYSTEM "http://169.254.169.254/"><r/>', "document type declaration"),
        (b"<!DOCTYPE html><html/>", "document type declaration"),
        (b"<r><x></r>", "not valid XML: mismatched tag at line 1, column 9"),
        (b"", "not valid XML"),
        (b"just text", "not valid XML"),
        (b"<a:r/>", "not valid XML: unbound prefix"),
        (b"<r>" * 200 + b"</r>" * 200, "XML nested deeper than 128 levels"),
        (b"<r>" + b"<x/>" * (MAX_XML_ELEMENTS + 1) + b"</r>", "more than 200000 elements"),
        (b"<r>" + b" " * MAX_XML_BYTES + b"</r>", "XML larger than"),
    ],
)
def test_unsafe_or_invalid_xml_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(UnsafeDocument) as caught:
        parse_xml(body)
    assert reason in caught.value.reason


def test_text_kept_per_element_is_capped() -> None:
    root = parse_xml(b"<r>" + b"x" * 100_000 + b"</r>")
    assert len(root.text) <= 2 * MAX_TEXT_CHARS
