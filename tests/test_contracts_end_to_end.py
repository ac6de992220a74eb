"""Issue 13, end to end through the command line: the real-shaped OCDS sample imported
into a store, matched against the shipped catalogue (vendors.yaml), listed by `contracts`,
and fed to `renewals`.

What the issue's check asks: buyers matched to the right GSS codes, suppliers to the right
vendors, non-IT notices skipped, no reseller credited as a vendor, the newest release of
each ocid kept, and the contracts that end in the window listed by `renewals` (those whose
dates are flagged as implausible left out).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from api_audit.cli import main

SAMPLE = Path(__file__).parent / "fixtures" / "ocds"
CATALOGUE = Path(__file__).parent.parent / "vendors.yaml"
FILES = [
    "cf-release-package.json",
    "cf-releases.jsonl",
    "fts-record-package.json",
    "fts-packages.jsonl.gz",
]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contracts") / "c.db"
    # Newest-last and newest-first orders both run, so the kept release is order-free.
    for files in (FILES, list(reversed(FILES))):
        code, _, err = cli("import", "ocds", *(str(SAMPLE / f) for f in files), "--db", str(path))
        assert code == 0, err
    return path


@pytest.fixture(scope="module")
def contracts(db: Path) -> dict[str, dict[str, Any]]:
    code, out, err = cli("contracts", "-c", str(CATALOGUE), "--db", str(db), "-f", "json")
    assert code == 0, err
    return {c["ocid"]: c for c in json.loads(out)["contracts"]}


def by_buyer(contracts: dict[str, dict[str, Any]], words: str) -> list[dict[str, Any]]:
    return [c for c in contracts.values() if words.casefold() in c["buyer"].casefold()]


def test_only_it_notices_are_kept_one_per_ocid(contracts: dict[str, dict[str, Any]]) -> None:
    assert len(contracts) == 8  # 14 releases: 4 not IT, 2 superseded
    buyers = " ".join(c["buyer"] for c in contracts.values())
    assert "Kingston" not in buyers and "Kensington" not in buyers  # refuse and waste notices


@pytest.mark.parametrize(
    ("buyer", "gss"),
    [
        ("LONDON BOROUGH OF HACKNEY", "E09000012"),
        ("Hackney Council", "E09000012"),
        ("London Borough of Camden", "E09000007"),
        ("Royal Borough of Greenwich", "E09000011"),
        ("The Council of the City of Wakefield", "E08000036"),
        ("Royal Borough of Windsor and Maidenhead", "E06000040"),
        ("Cornwall Council", "E06000052"),
    ],
)
def test_buyers_are_matched_to_their_gss_codes(
    contracts: dict[str, dict[str, Any]], buyer: str, gss: str
) -> None:
    found = [c for c in contracts.values() if c["buyer"] == buyer]
    assert found, buyer
    for contract in found:
        assert contract["council"] == gss, contract["match"]["council"]
        assert contract["match"]["council"]["confidence"] >= 0.85


@pytest.mark.parametrize(
    ("supplier", "vendor"),
    [
        ("CIVICA UK LIMITED", "civica"),
        ("Civica UK Ltd", "civica"),
        ("Idox Software Ltd", "idox"),
        ("IDOX SOFTWARE LTD", "idox"),
        ("NEC Software Solutions UK Limited", "nec"),
    ],
)
def test_suppliers_are_matched_to_their_vendors(
    contracts: dict[str, dict[str, Any]], supplier: str, vendor: str
) -> None:
    found = [c for c in contracts.values() if c["supplier"] == supplier]
    assert found, supplier
    assert {c["vendor"] for c in found} == {vendor}


@pytest.mark.parametrize("reseller", ["Softcat plc", "CDW Limited", "Phoenix Software Ltd"])
def test_no_reseller_is_credited_as_a_vendor(
    contracts: dict[str, dict[str, Any]], reseller: str
) -> None:
    (contract,) = [c for c in contracts.values() if c["supplier"] == reseller]
    assert contract["vendor"] is None and contract["system"] is None
    assert "reseller" in contract["match"]["vendor"]["note"]


def test_the_newest_release_of_each_ocid_is_kept(contracts: dict[str, dict[str, Any]]) -> None:
    # …0004 was a Hackney tender, then an award to Idox: the award is what is kept.
    (uniform,) = [
        c for c in contracts.values() if c["ocid"].startswith("ocds-b5fd17-1a2b3c4d-0004")
    ]
    assert (uniform["supplier"], uniform["vendor"], uniform["system"]) == (
        "Idox Software Ltd",
        "idox",
        "idox-uniform",
    )
    camden = contracts["ocds-h6vhtk-04a1b2"]
    assert camden["supplier"] == "IDOX SOFTWARE LTD"  # the compiled release, not the tender


def test_renewals_lists_imported_contracts_ending_in_the_window(db: Path) -> None:
    code, out, err = cli(
        "renewals", "-c", str(CATALOGUE), "--db", str(db), "--within", "60", "-f", "json"
    )
    assert code == 0, err
    rows = json.loads(out)["renewals"]
    imported = {row["ocid"]: row for row in rows if row["imported"]}
    assert "ocds-h6vhtk-04a1b2" in imported  # Camden, ends 2030-06-30
    assert all(row["source"] for row in imported.values())  # each with its notice URL
    # flagged dates are kept in the store but never trusted: Greenwich ends "2099",
    # Windsor "ends" before it starts
    assert "ocds-h6vhtk-04c3d4" not in imported
    assert not any("Windsor" in (row["council_name"] or "") for row in imported.values())
    catalogue_rows = [row for row in rows if not row["imported"]]
    assert all(row["ocid"] is None for row in catalogue_rows)


def test_a_notice_url_built_from_the_ocid_does_not_stop_an_annual_value(db: Path) -> None:
    """Only date flags make a period untrusted: `notice-url-from-ocid` says where the URL
    came from, not that the dates are wrong."""
    code, out, err = cli("contracts", "-c", str(CATALOGUE), "--db", str(db), "-f", "yaml")
    assert code == 0, err
    uniform = out[out.index("# system idox-uniform") :]
    assert "annual_value: 36000" in uniform.split("# system", 2)[1], uniform
