"""End to end: a market whose suppliers try each trick methodology 2027.01 closes.

Issue 11 ("a score a supplier cannot fairly dispute"). Each supplier serves pages worded
the way real vendor sites are (mega-menus, footers, cookie banners, newsletter boxes) with
one trick in them; the catalogue adds entries that are blank, recorded as searched with
nothing found, and published as a PDF. One `api-audit run` over the whole market, through
the command line: no trick earns or loses credit it should not, blank systems are `?` with
no number, and every observed finding carries its URL, status and body hash.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from api_audit.cli import main
from api_audit.demo.market import Route, Supplier, serve_market

HTML = {"content-type": "text/html; charset=utf-8"}
NOT_FOUND: Route = (404, {"content-type": "text/html"}, b"<h1>Page not found</h1>")

# What every real vendor page wraps its content in: a long menu, a cookie banner, a
# newsletter box and a mega-footer, each full of words a naive reader would credit.
CHROME_TOP = """
<header class="site-header"><nav class="mega-menu"><ul>
  <li><a href="/products">Products</a></li>
  <li><a href="/pricing">Pricing: free trial, plans per month</a></li>
  <li><a href="/signup">Sign up</a></li><li><a href="/news">What's new</a></li>
  <li><a href="/developers">Developers: free API, self-service keys</a></li>
</ul></nav></header>
<div id="cookie-banner" class="cookie-consent">We use cookies. Sign up to our newsletter,
  it is free of charge. <button>Accept</button></div>
"""
CHROME_BOTTOM = """
<aside class="newsletter"><h2>Stay in touch</h2><p>Sign up for our newsletter: release notes,
  what's new and product news, free of charge.</p>
  <form action="/newsletter/subscribe"><input name="email"><button>Subscribe</button></form></aside>
<footer class="site-footer"><ul><li>What's new</li><li>Changelog</li><li>Pricing from £5 per
  user per month</li><li>Free sandbox</li><li>Open Government Licence</li></ul>
  <p>© Supplier Ltd. All rights reserved.</p></footer>
"""


def page(title: str, main: str) -> Route:
    body = f"<!doctype html><html><head><title>{title}</title></head><body>{CHROME_TOP}"
    body += f"<main><h1>{title}</h1>{main}</main>{CHROME_BOTTOM}</body></html>"
    return (200, HTML, body.encode())


API_DOCS = page(
    "Housing API reference",
    "<h2>Authentication</h2><p>Requests to the API use OAuth 2 client credentials.</p>"
    "<h2>Endpoints</h2><p>GET /tenancies lists the council's tenancies.</p>",
)


def supplier(system_id: str, routes: Mapping[str, Route], **endpoints: str) -> Supplier:
    return Supplier(
        vendor_id=f"v-{system_id}",
        vendor_name=f"Vendor {system_id}",
        system_id=system_id,
        system_name=f"System {system_id}",
        service_areas=("housing",),
        endpoints=endpoints or {"docs": "/developers"},
        routes={"/developers": API_DOCS, **routes},
        fallback=NOT_FOUND,
    )


def tricks() -> list[Supplier]:
    return [
        # Nothing about the API's price anywhere, but the menu, cookie banner and footer
        # are full of price and "free" words; the pricing page is the product's price list.
        supplier(
            "product-price-list",
            {
                "/pricing": page(
                    "Housing Manager on the Digital Marketplace",
                    "<h2>Pricing</h2><p>Housing Manager costs £5 per user per month, "
                    "with a minimum of 50 users.</p><h2>Service scope</h2><p>Case "
                    "management for council housing teams.</p>",
                )
            },
            docs="/developers",
            pricing="/pricing",
        ),
        # Price-looking words, but API access is by sales conversation.
        supplier(
            "sales-gatekept",
            {
                "/pricing": page(
                    "API access",
                    "<p>Integration plans are billed per month.</p><p>To enable API access "
                    "for your council, contact your account manager.</p>",
                )
            },
            docs="/developers",
            pricing="/pricing",
        ),
        # An honest supplier: says plainly, about the API, that access is free.
        supplier(
            "honest-free",
            {
                "/developers": page(
                    "Housing API reference",
                    "<h2>Getting access</h2><p>Sign up on the developer portal to get an "
                    "API key straight away.</p><p>API access is included at no additional "
                    "charge for every council.</p><h2>Release notes</h2><p>Version 2.1 "
                    "added paging to the API.</p>",
                )
            },
        ),
        # "Chargeable" about a council service the API describes, not about the API.
        supplier(
            "chargeable-service",
            {
                "/terms": page(
                    "Bulky waste API terms",
                    "<p>The bulky waste API lists collection slots.</p><p>Bulky waste "
                    "collection is chargeable for residents; council tax bands apply.</p>",
                )
            },
            docs="/developers",
            terms="/terms",
        ),
        # The documentation is a public PDF specification.
        supplier(
            "pdf-docs",
            {"/interface-spec.pdf": (200, {"content-type": "application/pdf"}, b"%PDF-1.7 spec")},
            docs="/interface-spec.pdf",
        ),
        # The PDF again, served as a generic download.
        supplier(
            "pdf-download",
            {
                "/spec.pdf": (
                    200,
                    {"content-type": "application/octet-stream"},
                    b"%PDF-1.4 interface specification",
                )
            },
            docs="/spec.pdf",
        ),
    ]


BLANK = {"id": "blank", "name": "Blank Entry", "service_areas": ["finance-hr"]}
SEARCHED = {
    "id": "searched-none",
    "name": "Searched Entry",
    "service_areas": ["finance-hr"],
    "research": {
        "state": "none-found",
        "searched": "2026-11-20",
        "where": ["the supplier's website", "the Digital Marketplace"],
    },
}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """system id -> its scorecard JSON row, from one run over the whole market."""
    tmp = tmp_path_factory.mktemp("fair-scores")
    with serve_market(tuple(tricks())) as market:
        catalogue: dict[str, Any] = market.catalogue()
        catalogue["vendors"].append(
            {"id": "paper", "name": "Paper Ltd", "systems": [BLANK, SEARCHED]}
        )
        path = tmp / "vendors.yaml"
        path.write_text(yaml.safe_dump(catalogue, sort_keys=False), "utf-8")
        out, err = io.StringIO(), io.StringIO()
        argv = ["run", "-c", str(path), "--db", str(tmp / "a.db"), "--allow-private"]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, "-f", "json", "--min-interval", "0"])
    assert code == 0, err.getvalue()
    return {row["system"]: row for row in json.loads(out.getvalue())["systems"]}


def finding(audited: Mapping[str, Any], system: str, probe: str) -> dict[str, Any]:
    return next(f for f in audited[system]["findings"] if f["probe"] == probe)


# --- wording: no trick earns or loses credit it should not ---------------------------------

NOT_CREDITED = [
    ("product-price-list", "pricing-stated"),  # the product's price, and the menu's "free"
    ("sales-gatekept", "pricing-stated"),  # "per month", but ask the account manager
    ("product-price-list", "self-service-signup"),  # menu and newsletter "sign up"
    ("product-price-list", "changelog-published"),  # footer "what's new", "changelog"
    ("product-price-list", "sandbox-advertised"),  # footer "free sandbox"
    ("pdf-docs", "self-service-signup"),
]


@pytest.mark.parametrize(
    ("system", "probe"), NOT_CREDITED, ids=[f"{s}:{p}" for s, p in NOT_CREDITED]
)
def test_no_trick_earns_credit(audited: dict[str, Any], system: str, probe: str) -> None:
    found = finding(audited, system, probe)
    assert found["outcome"] != "pass", found


def test_a_sales_instruction_outweighs_price_words(audited: dict[str, Any]) -> None:
    found = finding(audited, "sales-gatekept", "pricing-stated")
    assert found["outcome"] == "fail"
    assert "account manager" in (found["excerpt"] or "").lower()


def test_a_products_price_list_is_not_the_price_of_the_api(audited: dict[str, Any]) -> None:
    found = finding(audited, "product-price-list", "pricing-stated")
    assert found["outcome"] == "inconclusive", found  # silence about the API is not a fail


def test_chargeable_about_a_council_service_costs_nothing(audited: dict[str, Any]) -> None:
    found = finding(audited, "chargeable-service", "pricing-stated")
    assert found["outcome"] != "fail", found


def test_the_honest_supplier_is_credited_with_the_sentence_that_decided(
    audited: dict[str, Any],
) -> None:
    for probe, words in [
        ("pricing-stated", "no additional charge"),
        ("self-service-signup", "sign up"),
        ("changelog-published", "release notes"),
    ]:
        found = finding(audited, "honest-free", probe)
        assert found["outcome"] == "pass", (probe, found)
        assert words in (found["excerpt"] or "").lower(), (probe, found)


# --- research state and documents as published ---------------------------------------------


def test_a_blank_entry_is_unknown_with_no_number(audited: dict[str, Any]) -> None:
    row = audited["blank"]
    assert (row["grade"], row["score"], row["ladder"]) == ("?", None, "L0?")
    assert row["research"]["state"] == "not-researched"
    assert all(c["partial"] for c in row["criteria"].values())
    assert not any(c["partial"] for c in audited["honest-free"]["criteria"].values())
    outcomes = {f["probe"]: f["outcome"] for f in row["findings"]}
    assert outcomes["docs-public"] == outcomes["openapi-published"] == "inconclusive"
    assert "fail" not in outcomes.values()


def test_a_recorded_search_fails_as_of_its_date_and_never_makes_a_confident_l0(
    audited: dict[str, Any],
) -> None:
    row = audited["searched-none"]
    docs = finding(audited, "searched-none", "docs-public")
    assert docs["outcome"] == "fail"
    assert "none found when searched on 2026-11-20" in docs["message"]
    assert docs["evidence"] == []  # a recorded search, not an exchange
    assert (row["ladder"], row["ladder_as_of"]) == ("L0", "2026-11-20")
    assert row["ladder_label"] == "nothing public found as of 2026-11-20"
    # Nothing was observed, so no letter grade and no number (a search is recorded by
    # hand, like an attestation, and hand-recorded facts alone never earn a grade).
    assert (row["grade"], row["score"]) == ("?", None)
    assert row["research"] == {
        "state": "none-found",
        "recorded": True,
        "searched": "2026-11-20",
        "where": ["the supplier's website", "the Digital Marketplace"],
        "not_found": [],
    }


@pytest.mark.parametrize("system", ["pdf-docs", "pdf-download"])
def test_a_public_pdf_specification_earns_partial_documented_credit(
    audited: dict[str, Any], system: str
) -> None:
    docs = finding(audited, system, "docs-public")
    assert docs["outcome"] == "pass"
    assert "a PDF document" in docs["message"]
    assert audited[system]["ladder"].startswith("L3")  # public human-readable documentation
    assert 0 < audited[system]["criteria"]["documented"]["score"] < 10


# --- evidence on every observed finding ----------------------------------------------------


def test_every_observed_finding_carries_url_status_and_hash(audited: dict[str, Any]) -> None:
    checked = 0
    for row in audited.values():
        for found in row["findings"]:
            if found["outcome"] not in ("pass", "fail") or found.get("basis") == "attested":
                continue
            if not found["evidence"]:
                assert "searched on" in found["message"], found  # a recorded search
                continue
            for exchange in found["evidence"]:
                assert exchange["url"].startswith("http://127.0.0.1:")
                assert exchange["final_url"]
                assert exchange["fetched_at"]
                if exchange["error"] is None:
                    assert isinstance(exchange["status"], int)
                    assert exchange["sha256"] is None or len(exchange["sha256"]) == 64
            checked += 1
    assert checked > 50


def test_the_table_prints_no_number_beside_a_question_mark(tmp_path: Path) -> None:
    with serve_market(tuple(tricks()[:1])) as market:
        catalogue: dict[str, Any] = market.catalogue()
        catalogue["vendors"].append({"id": "paper", "name": "Paper Ltd", "systems": [BLANK]})
        path = tmp_path / "vendors.yaml"
        path.write_text(yaml.safe_dump(catalogue, sort_keys=False), "utf-8")
        out, err = io.StringIO(), io.StringIO()
        argv = ["run", "-c", str(path), "--db", str(tmp_path / "a.db"), "--allow-private"]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert main([*argv, "--min-interval", "0"]) == 0, err.getvalue()
    blank = next(line for line in out.getvalue().splitlines() if "Blank Entry" in line)
    cells = [cell.strip() for cell in blank.split("│")[1:-1]]
    assert cells[2:5] == ["?", "L0?", "—"]
