"""probes/*.yaml -> the Methodology: every file read, checked and hashed; problems raised together.

One probe per file (its `id` is the file name) plus `rubric.yaml`. Everything is checked
against closed vocabularies: keys, criteria, effort, request fields, matcher names and
their arguments (each matcher reads its own), example outcomes. Every problem in every
file is collected and raised together as one MethodologyError, each located as
`file:line:col`. probes/README.md describes the format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.resources.abc import Traversable
from pathlib import Path

from api_audit.errors import MethodologyError, Problem
from api_audit.loading import (
    YamlLoadError,
    load_yaml_bytes,
    read_yaml_file,
)
from api_audit.methodology.checker import Checker
from api_audit.methodology.probe_files import read_probe
from api_audit.methodology.rubric import ProbeRefs, read_rubric
from api_audit.models import (
    Methodology,
    Probe,
    Rubric,
)
from api_audit.shipped import shipped_probe_directory

RUBRIC_FILE = "rubric.yaml"


def load_methodology(directory: Path | None = None) -> Methodology:
    """Load and validate the probe set (the built-in one unless `directory` is given)."""
    source = directory if directory is not None else default_probe_directory()
    problems: list[Problem] = []
    files = _methodology_files(source, problems)
    probes: list[Probe] = []
    rubric: Rubric | None = None
    rubric_refs: ProbeRefs | None = None
    for name, shown, raw in files:
        try:
            doc = load_yaml_bytes(raw, shown)
        except YamlLoadError as exc:
            problems.append(exc.problem)
            continue
        check = Checker(doc)
        if name == RUBRIC_FILE:
            rubric, rubric_refs = read_rubric(check)
        else:
            probe = read_probe(check, name.removesuffix(".yaml"))
            if probe is not None:
                probes.append(probe)
        problems.extend(check.problems)
    names = {name for name, _, _ in files}
    if rubric_refs is not None:  # the rubric may only name probes that have a file
        problems.extend(rubric_refs.unknown({n.removesuffix(".yaml") for n in names}))
    if files and RUBRIC_FILE not in names:
        problems.append(Problem(join_path(source, RUBRIC_FILE), 0, 0, "file is missing"))
    if files and names == {RUBRIC_FILE}:
        problems.append(Problem(str(source), 0, 0, "no probe files (*.yaml) found"))
    if problems or rubric is None:
        raise MethodologyError(problems)
    return Methodology(tuple(probes), rubric, methodology_sha256(files))


def default_probe_directory() -> Traversable:
    """The shipped probes: package api_audit.probe_data, or probes/ in a source tree."""
    return shipped_probe_directory()


def methodology_sha256(files: Iterable[tuple[str, str, bytes]]) -> str:
    """Hash of the sorted file names and bytes: identifies the probe set in a run."""
    digest = hashlib.sha256()
    for name, _, raw in sorted(files):
        digest.update(f"{name}\0{len(raw)}\0".encode())
        digest.update(raw)
    return digest.hexdigest()


def _methodology_files(
    source: Traversable, problems: list[Problem]
) -> list[tuple[str, str, bytes]]:
    """(file name, name shown in messages, bytes) for every *.yaml file, sorted by name."""
    try:
        entries = sorted(source.iterdir(), key=lambda e: e.name)
    except OSError as exc:
        problems.append(Problem(str(source), 0, 0, f"cannot read directory: {exc.strerror}"))
        return []
    files: list[tuple[str, str, bytes]] = []
    for entry in entries:
        if entry.name.endswith(".yml"):
            problems.append(Problem(str(entry), 0, 0, "probe files must end in .yaml"))
        if not entry.name.endswith(".yaml") or entry.is_dir():
            continue
        try:
            files.append((entry.name, str(entry), _read_probe_file(entry)))
        except YamlLoadError as exc:
            problems.append(exc.problem)
    if not files and not problems:
        problems.append(Problem(str(source), 0, 0, "no probe files (*.yaml) found"))
    return files


def _read_probe_file(entry: Traversable) -> bytes:
    """A file of a --probes directory is read as any input file is (a regular file, size
    capped: a FIFO or a device named *.yaml is refused, not waited on or read for ever);
    the shipped probes, which may live inside a wheel, are read as package data."""
    if isinstance(entry, Path):
        return read_yaml_file(entry)
    try:
        return entry.read_bytes()
    except OSError as exc:
        raise YamlLoadError(
            Problem(str(entry), 0, 0, f"cannot read file: {exc.strerror}")
        ) from None


def join_path(source: Traversable, name: str) -> str:
    return str(source / name)
