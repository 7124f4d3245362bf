"""Money is read by one parser (risk_models.io.numbers) in every file that carries amounts: the inventory and
the contracts file read '1.234,50' as 1234.5, never 1.2345, and refuse an amount that reads two ways."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk_models.config.loader import load_library
from risk_models.dora.spec import load_roi_spec
from risk_models.inventory.read import import_inventory
from risk_models.io.numbers import read_money
from risk_models.providers.records import load_book
from tests.conftest import ROOT

DEMO = ROOT / "config" / "demo"
INV = "deployment_id,name,channel,model,annual_spend_usd,committed_spend_usd,criticality,data_sensitivity\n"


@pytest.fixture(scope="module")
def lib():
    return load_library()


def _inventory(lib, tmp_path, rows: str):
    f = tmp_path / "inv.csv"
    f.write_text(INV + rows, encoding="utf-8")
    return import_inventory(f, lib)


def _contracts(lib, tmp_path, spend: str, committed: str = "0"):
    text = (DEMO / "contracts.csv").read_text(encoding="utf-8").splitlines()
    head = text[0].split(",")
    rows = [line for line in text[1:] if line.startswith("MSFT-EA-2024-017")]
    cells = next(csv.reader(rows))
    cells[head.index("annual_spend")], cells[head.index("committed_spend")] = spend, committed
    f = tmp_path / "contracts.csv"
    f.write_text(text[0] + "\n" + ",".join(f'"{c}"' for c in cells) + "\n", encoding="utf-8")
    spec = load_roi_spec()
    return load_book(DEMO / "providers.csv", f, lib, spec.lists["ict_service_type"])


@pytest.mark.parametrize(("text", "value"), [("1.234,50", 1234.5), ("1,234.50", 1234.5), ("€ 1.234,50", 1234.5),
                                             ("250,000", 250000.0), ("1620000", 1620000.0), ("EUR 9.000,00", 9000.0)])
def test_contract_amounts_are_read_like_the_inventory(lib, tmp_path, text, value):
    book = _contracts(lib, tmp_path, text)
    assert not book.errors, book.errors
    assert book.contracts.loc[0, "annual_spend"] == value


def test_a_contract_amount_that_reads_two_ways_is_refused_with_both_readings(lib, tmp_path):
    book = _contracts(lib, tmp_path, "1.234")
    [err] = [e for e in book.errors if e.column == "annual_spend"]
    assert err.value == "1.234" and "1.234" in err.message and "1,234" in err.message
    assert book.contracts.empty  # nothing half-read goes into the register


def test_inventory_reads_the_european_form(lib, tmp_path):
    res = _inventory(lib, tmp_path, "A1,Bot,openai,gpt-4o,\"1.234,50\",\"500,00\",low,public\n")
    assert not res.errors
    assert res.frame.loc[0, "annual_spend_usd"] == 1234.5 and res.frame.loc[0, "committed_spend_usd"] == 500.0


def test_inventory_refuses_an_ambiguous_amount_naming_row_column_and_value(lib, tmp_path):
    res = _inventory(lib, tmp_path, "A1,Bot,openai,gpt-4o,1.234,0,low,public\n")
    [err] = res.errors
    assert (err.line, err.column, err.value) == (2, "annual_spend_usd", "1.234")
    assert "ambiguous" in err.message


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_both_conventions_read_the_same_amount(amount):
    us = f"{amount:,.2f}"
    eu = us.replace(",", "_").replace(".", ",").replace("_", ".")
    # a file shows its convention (a value only one convention fits): every amount in it is read that way
    v_us, p_us = read_money({"a": pd.Series([us, "1,000.50"])})
    v_eu, p_eu = read_money({"a": pd.Series([eu, "1.000,50"])})
    assert v_us["a"].iat[0] == pytest.approx(float(amount)) and p_us["a"].iat[0] is None
    assert v_eu["a"].iat[0] == pytest.approx(float(amount)) and p_eu["a"].iat[0] is None
