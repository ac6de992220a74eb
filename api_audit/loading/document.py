"""Read one of our own YAML input files into plain data, keeping where each value was written.

Used by the catalogue and probe loaders so each problem can be reported as
`file:line:col: message`. The file is held to the limits in `limits.py` (size first, then
depth and alias expansion on the node graph) before any Python objects are built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from api_audit.errors import Problem
from api_audit.loading.files import InputFileError, InputTooLargeError, read_regular_file
from api_audit.loading.limits import MAX_BYTES, MAX_DEPTH, MAX_NODES, find_breach

try:  # libyaml is ~4x faster and has its own nesting limit; fall back if not built
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

PathKey = tuple[str | int, ...]

# Everything the YAML 1.1 reader accepts (PyYAML's NON_PRINTABLE, inverted), less NEL
# (U+0085): a C1 control, refused like the others. The rest (NUL, C0 and C1 controls, DEL,
# U+FFFE/U+FFFF) is found before parsing, so it is reported at its line and column instead
# of as PyYAML's "position N" on two lines.
_NOT_ALLOWED = re.compile(r"[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029]")  # as YAML counts lines


@dataclass(frozen=True)
class YamlDocument:
    """Plain Python data plus where each value (and each mapping key) was written."""

    path: str
    data: object
    value_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def problem(self, at: PathKey, message: str, *, key: bool = False) -> Problem:
        """A Problem located at the value (or the key) for `at`, or its nearest parent."""
        marks = self.key_marks if key else self.value_marks
        probe = at
        while probe not in marks and probe:
            probe = probe[:-1]
        line, col = marks.get(probe, self.value_marks.get(probe, (0, 0)))
        return Problem(self.path, line, col, message)


class YamlLoadError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def load_yaml_file(path: str | Path) -> YamlDocument:
    """Read, limit-check and convert one YAML file; raise YamlLoadError on any problem."""
    return load_yaml_bytes(read_yaml_file(path), str(path))


def read_yaml_file(path: str | Path) -> bytes:
    """The bytes of a YAML file we may read: a regular file of at most MAX_BYTES (never a
    FIFO or a device, which are refused before they are opened); else YamlLoadError."""
    try:
        return read_regular_file(path, MAX_BYTES)
    except InputTooLargeError as exc:
        raise YamlLoadError(Problem(str(path), 0, 0, str(exc))) from None
    except InputFileError as exc:
        raise YamlLoadError(Problem(str(path), 0, 0, f"cannot read file: {exc}")) from None


def load_yaml_bytes(raw: bytes, shown: str) -> YamlDocument:
    if len(raw) > MAX_BYTES:
        raise YamlLoadError(Problem(shown, 0, 0, f"file is larger than {MAX_BYTES} bytes"))
    text = _decode(raw, shown)
    if not text.strip():
        raise YamlLoadError(Problem(shown, 1, 1, "file is empty"))
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = exc.problem or exc.context or "invalid YAML"
        raise YamlLoadError(Problem(shown, line, col, f"invalid YAML: {reason}")) from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())  # one line, whatever the parser's message is
        raise YamlLoadError(Problem(shown, 0, 0, f"invalid YAML: {reason}")) from None
    except RecursionError:
        raise YamlLoadError(Problem(shown, 0, 0, "YAML is nested too deeply")) from None
    if root is None:
        raise YamlLoadError(Problem(shown, 1, 1, "file is empty"))
    _check_limits(root, shown)
    doc = YamlDocument(shown, None)
    constructor = yaml.SafeLoader("")  # builds scalars with YAML 1.1 types (true, 3, dates)
    try:
        data = _to_python(root, (), doc, constructor)
    finally:
        constructor.dispose()
    return YamlDocument(shown, data, doc.value_marks, doc.key_marks)


def _decode(raw: bytes, shown: str) -> str:
    """UTF-8 text without the characters YAML refuses; the first bad byte or character is
    reported at its line and column (columns count characters, as YAML's own marks do)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")  # valid: decoding failed only at exc.start
        line, col = _position(before, len(before))
        message = f"file is not UTF-8: byte 0x{raw[exc.start]:02x} ({exc.reason})"
        raise YamlLoadError(Problem(shown, line, col, message)) from None
    found = _NOT_ALLOWED.search(text)
    if found:
        line, col = _position(text, found.start())
        code = ord(found.group())
        what = "NUL" if code == 0 else "control character" if code < 0xA0 else "character"
        message = f"{what} U+{code:04X} is not allowed in a YAML file"
        raise YamlLoadError(Problem(shown, line, col, message))
    return text


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of `text[index]`."""
    line, start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, brk.end()
    return line, index - start + 1


def _check_limits(root: yaml.Node, shown: str) -> None:
    """Raise YamlLoadError, located at the node where it was found, for a broken limit."""
    breach = find_breach(root)
    if breach is None:
        return
    if breach.limit == "nodes":  # a count over the whole document: no one place to show
        raise YamlLoadError(Problem(shown, 0, 0, f"aliases expand to more than {MAX_NODES} nodes"))
    mark = breach.node.start_mark
    message = _BREACH_MESSAGES[breach.limit]
    raise YamlLoadError(Problem(shown, mark.line + 1, mark.column + 1, message))


_BREACH_MESSAGES = {
    "depth": f"nested deeper than {MAX_DEPTH}",
    "cycle": "an alias refers to itself",
}


def _to_python(
    node: yaml.Node, at: PathKey, doc: YamlDocument, constructor: yaml.SafeLoader
) -> object:
    doc.value_marks.setdefault(at, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[object, object] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = _scalar(key_node, constructor)
            else:
                key = "<complex key>"
            child_at = (*at, str(key))
            mark = key_node.start_mark
            if str(key) in seen:
                raise YamlLoadError(
                    Problem(doc.path, mark.line + 1, mark.column + 1, f"duplicate key {key!r}")
                )
            seen.add(str(key))
            doc.key_marks[child_at] = (mark.line + 1, mark.column + 1)
            result[key] = _to_python(value_node, child_at, doc, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*at, i), doc, constructor) for i, child in enumerate(node.value)]
    return _scalar(node, constructor)


def _scalar(node: yaml.Node, constructor: yaml.SafeLoader) -> object:
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.constructor.ConstructorError, ValueError):
        return node.value
