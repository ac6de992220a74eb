"""docs/probes.md is generated from the probe files and must not drift; `probes list/show`
print the same facts for people (Rich, escaped) and machines (JSON)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from api_audit.cli import main
from api_audit.methodology import LINKS, MATCHERS, default_probe_directory, load_methodology
from api_audit.methodology.examples import run_example
from api_audit.report.probe_docs import (
    REGENERATE,
    describe_request,
    probe_detail,
    probe_to_dict,
    render_probes_markdown,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "probes.md"
SHIPPED = load_methodology()


def test_docs_probes_md_matches_the_probe_files() -> None:
    expected = render_probes_markdown(SHIPPED)
    actual = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert actual == expected, (
        f"docs/probes.md is out of date with probes/*.yaml; regenerate it: {REGENERATE}"
    )


def test_the_regenerate_command_prints_the_docs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api_audit.report.probe_docs"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout == render_probes_markdown(SHIPPED)


def test_markdown_is_deterministic_and_complete() -> None:
    text = render_probes_markdown(SHIPPED)
    assert render_probes_markdown(load_methodology()) == text
    for probe in SHIPPED.probes:
        assert f"\n### {probe.id}\n" in text
        assert probe.why_url in text
        for example in probe.examples:
            assert example.name.replace("|", "\\|") in text
    for name in (*MATCHERS, *LINKS):
        assert f"| `{name}` |" in text
    assert SHIPPED.sha256 not in text  # the hash covers rubric.yaml too: not in these docs


def test_markdown_escapes_table_cells(tmp_path: Path) -> None:
    copy = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), copy)
    target = copy / "https.yaml"
    target.write_text(
        target.read_text().replace("  - name: plain http\n", "  - name: plain | http\n")
    )
    assert "| plain \\| http | fail |" in render_probes_markdown(load_methodology(copy))


def test_describe_request() -> None:
    probes = {p.id: p for p in SHIPPED.probes}
    assert describe_request(probes["open311"]) == (
        "GET `services.json`, `discovery.json`, `services.xml`, `discovery.xml` under api_base, "
        "passing on the first that passes "
        "(Accept: `application/json, text/xml;q=0.9, application/xml;q=0.9`). "
        "Without a URL to fetch: not_applicable."
    )
    assert "in its http:// form" in describe_request(probes["http-redirects-to-https"])
    assert "without one, the first of `/openapi.json`" in describe_request(
        probes["openapi-published"]
    )


def test_probe_to_dict_is_json_with_example_results() -> None:
    probe = next(p for p in SHIPPED.probes if p.id == "docs-link-spec")
    results = [run_example(probe, e) for e in probe.examples]
    document = json.loads(json.dumps(probe_to_dict(probe, results)))
    assert document["follow"]["link"] == "api_description"
    assert document["file"] == "docs-link-spec.yaml"
    assert all(e["result"]["outcome"] == e["outcome"] for e in document["examples"])


# --- the command line ---------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_probes_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, ["probes", "list"])
    assert code == 0
    assert f"{len(SHIPPED.probes)} probes" in out
    assert "open311" in out
    code, out, _ = _run(capsys, ["probes", "list", "-f", "json"])
    rows = json.loads(out)["probes"]
    assert [r["id"] for r in rows] == [p.id for p in SHIPPED.probes]
    assert {r["criterion"] for r in rows} == {"documented", "free", "standards", "hygiene"}


def test_probes_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, ["probes", "show", "security-txt", "-f", "json"])
    assert code == 0
    document = json.loads(out)
    assert document["id"] == "security-txt"
    assert document["examples"][0]["result"]["outcome"] == "pass"
    code, out, _ = _run(capsys, ["probes", "show", "open311"])
    assert code == 0
    for text in ("Open311 GeoReport v2", "remediation", "truncated JSON", "wiki.open311.org"):
        assert text in out


def test_probes_show_an_unknown_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, ["probes", "show", "open-311"])
    assert code == 2
    assert "no probe 'open-311' (did you mean 'open311'?)" in err


def test_probes_commands_take_another_probe_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), copy)
    (copy / "apis-json.yaml").unlink()
    code, out, _ = _run(capsys, ["probes", "list", "--probes", str(copy), "-f", "json"])
    assert code == 0
    assert "apis-json" not in [r["id"] for r in json.loads(out)["probes"]]


def test_show_escapes_markup_and_controls(tmp_path: Path) -> None:
    copy = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), copy)
    target = copy / "https.yaml"
    target.write_text(
        target.read_text().replace(
            "title: The API is served over HTTPS", 'title: "[red]HTTPS[/red] \\e[2J"'
        )
    )
    probe = next(p for p in load_methodology(copy).probes if p.id == "https")
    console = Console(width=200, color_system=None, record=True, force_terminal=False)
    console.print(probe_detail(probe, [run_example(probe, e) for e in probe.examples]))
    text = console.export_text()
    assert "[red]HTTPS[/red]" in text  # shown as written, not interpreted
    assert "\x1b" not in text
