"""The council register shipped as package data: lookups by GSS and registry code."""

from __future__ import annotations

from importlib import resources

import pytest

from api_audit.catalogue.councils import describe, load_register, parse_register


def test_register_is_packaged_and_read_once() -> None:
    register = load_register()
    assert load_register() is register
    assert len(register) == 470
    assert sum(c.current for c in register) == 397


def test_package_data_credits_mysociety() -> None:
    readme = resources.files("api_audit.data").joinpath("README.md").read_text("utf-8")
    assert "mySociety" in readme
    assert "CC BY 4.0" in readme


@pytest.mark.parametrize("code", ["E09000012", "e09000012", "HCK", "hck", " HCK "])
def test_lookup_by_gss_or_three_letter_code(code: str) -> None:
    council = load_register().lookup(code)
    assert council is not None
    assert (council.gss, council.code, council.nice_name) == ("E09000012", "HCK", "Hackney")
    assert council.name == "London Borough of Hackney"
    assert council.current
    assert council.key == "E09000012"


@pytest.mark.parametrize("code", ["E09999999", "XYZ", "", "Hackney", 12, None])
def test_unknown_codes_are_none(code: object) -> None:
    assert load_register().lookup(code) is None


def test_past_authority_keeps_its_end_and_successor() -> None:
    council = load_register().lookup("ALL")
    assert council is not None
    assert not council.current
    assert (council.gss, council.end_date, council.replaced_by) == (
        "E07000026",
        "2023-04-01",
        "CBD",
    )


def test_past_authority_without_gss_is_keyed_by_its_code() -> None:
    council = load_register().lookup("nir-a")
    assert council is not None
    assert (council.gss, council.key, council.nice_name) == ("", "NIR-A", "Derry")


def test_suggestions_for_typos_and_names() -> None:
    register = load_register()
    assert [describe(c) if c else None for c in map(register.suggest, ["E0900012", "hackney"])] == [
        "Hackney (HCK, E09000012)",
        "Hackney (HCK, E09000012)",
    ]
    somerset = register.suggest("Somerset")  # a current and a past authority share the name
    assert somerset is not None
    assert somerset.current
    assert register.suggest("zzzzzzzz") is None
    assert register.suggest(3) is None


def test_parse_register_reads_the_mysociety_columns() -> None:
    register = parse_register(
        "local-authority-code,official-name,nice-name,gss-code,current-authority,end-date\n"
        "AAA,Alpha Council,Alpha,E06999999,True,\n"
        "BBB,Beta Council,Beta,,False,2020-03-31\n"
    )
    alpha, beta = register
    assert (alpha.code, alpha.gss, alpha.current, alpha.end_date) == (
        "AAA",
        "E06999999",
        True,
        None,
    )
    assert (beta.key, beta.current, beta.end_date) == ("BBB", False, "2020-03-31")
    assert register.lookup("e06999999") is alpha
