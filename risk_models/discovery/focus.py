"""FOCUS billing exports (1.0-1.2, CSV or Parquet) -> AI spend per draft deployment.

Streamed with pyarrow in record batches (Parquet `iter_batches`, CSV `open_csv`), each batch reduced
at once to partial sums per (key, channel, model, region, billing period), so memory stays bounded
by the number of deployments, not rows. Every AI row that cannot be placed is counted with its
reason and example lines; non-AI rows are counted per service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from risk_models.discovery.rules import REQUIRED_FIELDS, DiscoveryFile, classify, find_model
from risk_models.io.file_errors import reading

BATCH_ROWS = 131_072
CSV_BLOCK = 8 << 20
EXAMPLES = 5
GROUP = ["key", "name", "channel", "model", "region", "period_start", "period_end"]
MIN_PERIOD_DAYS = 28  # the shortest calendar month
MAX_ROW_COST = 1e11  # one charge row above 100 bn (any currency) is a broken export, not spend; keeps sums finite


class FocusFileError(ValueError):
    """A billing file as a whole cannot be read (missing, not FOCUS, unreadable)."""


@dataclass
class Unplaced:
    reason: str
    rows: int = 0
    lines: list[str] = field(default_factory=list)  # "file line 12" / "file row 12" examples
    cost: float = 0.0


@dataclass
class FocusImport:
    """Partial sums of AI spend and everything that was left out, with reasons."""

    groups: pd.DataFrame
    files: list[str]
    total_rows: int = 0
    ai_rows: int = 0
    non_ai_services: dict[str, int] = field(default_factory=dict)
    unplaced: dict[str, Unplaced] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    days_covered: float = 0.0
    periods: list[tuple[str, str]] = field(default_factory=list)

    @property
    def non_ai_rows(self) -> int:
        return sum(self.non_ai_services.values())

    @property
    def unplaced_rows(self) -> int:
        return sum(u.rows for u in self.unplaced.values())


def _resolve(names: list[str], disc: DiscoveryFile, path: Path, key: str) -> dict[str, str]:
    present = set(names)
    cols = {f: next((n for n in alias if n in present), None) for f, alias in disc.columns.items()}
    missing = [f for f in REQUIRED_FIELDS if cols.get(f) is None]
    needed = {"resource": "resource_id", "subaccount": "subaccount_id"}.get(key, "tags")
    if cols.get(needed) is None:
        missing.append(needed)
    if missing:
        tried = "; ".join(f"{f}: {' or '.join(disc.columns.get(f, []))}" for f in missing)
        raise FocusFileError(f"{path.name}: not a FOCUS 1.0-1.2 export this key can use — missing column(s) {tried}. "
                             f"The header has: {', '.join(names[:40])}{' …' if len(names) > 40 else ''}")
    used = {c for c in cols.values() if c is not None}
    twice = sorted(c for c in used if names.count(c) > 1)
    if twice:  # which one a reader takes is a guess (the second cost column was silently ignored)
        raise FocusFileError(f"{path.name}: the column(s) {', '.join(twice)} appear more than once in the header; "
                             "keep one of each")
    return {f: c for f, c in cols.items() if c is not None}


def _batches(path: Path, disc: DiscoveryFile, key: str):
    """(column map, model text columns, iterator of pyarrow batches, first line number, unit)."""
    with reading(path, FocusFileError), path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise FocusFileError(f"{path.name}: cannot read the Parquet file ({exc})") from None
        names = pf.schema_arrow.names
        cols = _resolve(names, disc, path, key)
        texts = [c for c in dict.fromkeys([*disc.model_text_columns]) if c in names]
        read = list(dict.fromkeys([*cols.values(), *texts]))
        return cols, texts, pf.iter_batches(batch_size=BATCH_ROWS, columns=read), 1, "row"
    if magic[:2] in (b"PK",) or b"\x00" in magic:
        raise FocusFileError(f"{path.name}: not a CSV or Parquet file (FOCUS exports are CSV, CSV.GZ or Parquet)")
    try:
        head = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16))
        names = head.schema.names
    except (pa.ArrowInvalid, OSError) as exc:
        raise FocusFileError(f"{path.name}: cannot parse as CSV ({exc})") from None
    cols = _resolve(names, disc, path, key)
    texts = [c for c in dict.fromkeys(disc.model_text_columns) if c in names]
    read = list(dict.fromkeys([*cols.values(), *texts]))
    conv = pacsv.ConvertOptions(include_columns=read, column_types={c: pa.string() for c in read},
                                strings_can_be_null=False)
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK), convert_options=conv)
    return cols, texts, reader, 2, "line"


Enc = tuple[np.ndarray, np.ndarray]  # per-row codes, distinct values as text ('' = missing)


def _enc(arr: pa.Array | pa.ChunkedArray | None, n: int) -> Enc:
    """Dictionary-encode a column: rows become small integer codes and only the distinct values are
    turned into Python text (a billing column has a handful of distinct values in a million rows)."""
    if arr is None:
        return np.zeros(n, dtype=np.int64), np.array([""], dtype=object)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    d = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    codes = pc.fill_null(d.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    vals = d.dictionary
    if pa.types.is_timestamp(vals.type):
        text = vals.to_pandas().dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    else:
        text = vals.to_pandas().astype(object).where(lambda x: x.notna(), "").astype(str)
    values = np.append(text.to_numpy(dtype=object), "")
    codes[codes < 0] = len(values) - 1
    return codes, values


def _col(batch: pa.RecordBatch, col: str | None, n: int) -> Enc:
    return _enc(batch.column(col) if col is not None else None, n)


def _float(arr: pa.Array) -> np.ndarray:
    """Costs as numbers (NaN where a CSV cell is not a number)."""
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type):
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    try:
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        codes, values = _enc(arr, len(arr))
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)[codes]


def _tag_values(arr: pa.Array | pa.ChunkedArray, tag: str) -> Enc:
    """The value of one tag per row: Parquet map columns (AWS) or JSON object text (CSV, Azure, GCP)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_map(arr.type):
        return _enc(pc.map_lookup(arr, pa.scalar(tag), "first"), len(arr))
    codes, values = _enc(arr, len(arr))

    def one(text: str) -> str:
        try:
            obj = json.loads(text) if text.strip() else {}
        except ValueError:
            return ""
        v = obj.get(tag) if isinstance(obj, dict) else None
        return "" if v is None else str(v).strip()
    return codes, np.array([one(v) for v in values], dtype=object)


def _note(out: FocusImport, mask: np.ndarray, reason: str, where: tuple[str, np.ndarray],
          cost: pd.Series | None = None) -> None:
    """Count rows left out for `reason`, with a few example lines (file line or Parquet row)."""
    if not mask.any():
        return
    u = out.unplaced.setdefault(reason, Unplaced(reason))
    u.rows += int(mask.sum())
    if cost is not None:
        u.cost += float(np.nansum(cost.to_numpy()[mask]))
    if len(u.lines) < EXAMPLES:
        label, numbers = where
        u.lines.extend(f"{label} {k}" for k in numbers[mask][: EXAMPLES - len(u.lines)])


def read_focus(paths: list[Path | str], disc: DiscoveryFile, key: str = "resource", months: int | None = None,
               rates: dict[str, float] | None = None) -> FocusImport:
    """Read FOCUS exports; key: 'resource', 'subaccount' or 'tag:NAME'. rates: currency -> USD per unit."""
    kind, _, tag = key.partition(":")
    if kind not in ("resource", "subaccount", "tag") or (kind == "tag" and not tag):
        raise FocusFileError(f"--key {key}: use resource, subaccount or tag:NAME (e.g. tag:ai-deployment)")
    rates = {k.upper(): v for k, v in (rates or {}).items()}
    rates.setdefault("USD", 1.0)
    spend = {c.casefold() for c in disc.spend_categories}
    out = FocusImport(groups=pd.DataFrame(), files=[str(p) for p in paths])
    parts: list[pd.DataFrame] = []
    services: dict[str, int] = {}
    for p in map(Path, paths):
        cols, texts, batches, first, unit = _batches(p, disc, kind)
        offset = 0
        try:
            for batch in batches:
                n = batch.num_rows
                _reduce(batch, offset + first, f"{p.name} {unit}", cols, texts, kind, tag, disc, spend, rates, out,
                        parts, services)
                offset += n
                if len(parts) > 64:  # keep the partial sums few: bounded memory for any file size
                    parts[:] = [_sum(pd.concat(parts, ignore_index=True))]
        except (pa.ArrowInvalid, OSError) as exc:
            raise FocusFileError(f"{p.name}: cannot read past {unit} {offset + first} ({exc})") from None
        out.total_rows += offset
    out.non_ai_services = dict(sorted(services.items(), key=lambda kv: -kv[1]))
    groups = _sum(pd.concat(parts, ignore_index=True)) if parts else pd.DataFrame(columns=[*GROUP, "cost", "rows"])
    groups, out.periods, out.days_covered = _periods(groups, months, out)
    out.groups = groups
    return out


def _sum(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby(GROUP, sort=False, dropna=False).agg(cost=("cost", "sum"), rows=("rows", "sum")).reset_index()


def _reduce(batch, start, label, cols, texts, kind, tag, disc, spend, rates, out, parts, services) -> None:
    """One batch -> partial sums of its AI rows; the rest counted (non-AI per service, unplaced per reason).
    Works on dictionary codes: regexes and lookups run once per distinct value, never per row."""
    n = batch.num_rows
    (pc_, pv_), (uc_, uv_), (sc_, sv_) = (_col(batch, cols.get(f), n) for f in ("provider", "publisher", "service"))
    combo = (pc_ * len(uv_) + uc_) * len(sv_) + sc_
    uniq, inv = np.unique(combo, return_inverse=True)
    up, uu, us = uniq // (len(uv_) * len(sv_)), (uniq // len(sv_)) % len(uv_), uniq % len(sv_)
    cls = classify(pd.Series(pv_[up]), pd.Series(uv_[uu]), pd.Series(sv_[us]), disc.rules)
    channel_u = cls["channel"].to_numpy(dtype=object)
    ai = channel_u[inv] != ""
    if (~ai).any():
        counts = np.bincount(sc_[~ai], minlength=len(sv_))
        for k in np.flatnonzero(counts):
            name = sv_[k] or "(no service name)"
            services[name] = services.get(name, 0) + int(counts[k])
    if not ai.any():
        return
    idx = np.flatnonzero(ai)
    out.ai_rows += len(idx)
    sub = batch.take(pa.array(idx))
    m = len(idx)
    where = (label, idx + start)
    cost = _float(sub.column(cols["cost"]))
    bad_cost = ~np.isfinite(cost)
    _note(out, bad_cost, f"{cols['cost']} is not a number", where)
    huge = ~bad_cost & (np.abs(np.where(bad_cost, 0.0, cost)) > MAX_ROW_COST)
    _note(out, huge, f"{cols['cost']} is beyond {MAX_ROW_COST:,.0f} on one row (not a plausible charge)", where)
    bad_cost |= huge
    ok = ~bad_cost
    cost_s = pd.Series(np.where(ok, cost, 0.0))
    if "category" in cols:
        cat_c, cat_v = _col(sub, cols["category"], m)
        counted = np.array([v.strip().casefold() in spend for v in cat_v])
        not_spend = ok & ~counted[cat_c]
        for code in np.unique(cat_c[not_spend]):
            _note(out, not_spend & (cat_c == code), f"charge category {cat_v[code].strip() or '(blank)'!r} is not "
                  f"counted as spend (counted: {', '.join(disc.spend_categories)})", where, cost_s)
        ok &= ~not_spend
    cur_c, cur_v = _col(sub, cols["currency"], m)
    rate_u = np.array([rates.get(v.strip().upper(), np.nan) for v in cur_v], dtype=float)
    rate = rate_u[cur_c]
    no_rate = ok & np.isnan(rate)
    for code in np.unique(cur_c[no_rate]):
        _note(out, no_rate & (cur_c == code), f"billed in {cur_v[code].strip().upper() or '(blank)'}; no exchange "
              "rate to USD given (--rates)", where, cost_s)
    ok &= ~no_rate
    if kind == "tag":
        key_c, key_v = _tag_values(sub.column(cols["tags"]), tag)
        name_c, name_v = key_c, key_v
        reason = f"no {tag!r} tag"
    else:
        f_id, f_name = ("resource_id", "resource_name") if kind == "resource" else ("subaccount_id", "subaccount_name")
        key_c, key_v = _col(sub, cols[f_id], m)
        name_c, name_v = _col(sub, cols.get(f_name), m)
        reason = f"no {cols[f_id]} ({'resource id' if kind == 'resource' else 'sub-account'}) to group by"
    key_v = np.array([v.strip() for v in key_v], dtype=object)
    blank = (key_v == "")[key_c]
    _note(out, ok & blank, reason, where, cost_s)
    ok &= ~blank
    if not ok.any():
        return
    model = np.full(m, "", dtype=object)
    for c in texts:
        todo = model == ""
        if not todo.any():
            break
        t_c, t_v = _col(sub, c, m)
        model[todo] = find_model(pd.Series(t_v), disc.models).to_numpy(dtype=object)[t_c[todo]]
    model_c, model_v = pd.factorize(model)
    reg_c, reg_v = _col(sub, cols.get("region"), m)
    ps_c, ps_v = _col(sub, cols["period_start"], m)
    pe_c, pe_v = _col(sub, cols["period_end"], m)
    codes = pd.DataFrame({"key": key_c, "name": name_c, "channel": inv[idx], "model": model_c, "region": reg_c,
                          "period_start": ps_c, "period_end": pe_c, "cost": cost * np.nan_to_num(rate, nan=0.0),
                          "rows": 1})[ok]
    g = codes.groupby(GROUP, sort=False).agg(cost=("cost", "sum"), rows=("rows", "sum")).reset_index()
    lookup = {"key": key_v, "name": np.array([v.strip() for v in name_v], dtype=object), "channel": channel_u,
              "model": np.asarray(model_v, dtype=object), "region": np.array([v.strip() for v in reg_v], dtype=object),
              "period_start": np.array([v.strip() for v in ps_v], dtype=object),
              "period_end": np.array([v.strip() for v in pe_v], dtype=object)}
    for c, values in lookup.items():
        g[c] = values[g[c].to_numpy()]
    parts.append(g)


def _to_date(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, utc=True, errors="coerce", format="mixed")


def _periods(groups: pd.DataFrame, months: int | None, out: FocusImport) -> tuple[pd.DataFrame, list, float]:
    """Billing periods covered (optionally only the last `months`) and their total length in days."""
    if groups.empty:
        return groups, [], 0.0
    per = groups[["period_start", "period_end"]].drop_duplicates()
    per = per.assign(start=_to_date(per["period_start"]), end=_to_date(per["period_end"]))
    invalid = per["start"].isna() | per["end"].isna() | (per["end"] <= per["start"])
    # a billing period is an invoice period (a calendar month): a shorter one would be annualised many times
    # over (1 second: x31,557,600)
    short = ~invalid & ((per["end"] - per["start"]).dt.total_seconds() < MIN_PERIOD_DAYS * 86400)
    for bad, reason in ((invalid, "billing period is not a valid date range"),
                        (short, f"billing period is shorter than {MIN_PERIOD_DAYS} days (FOCUS billing periods are "
                                "invoice periods, usually calendar months)")):
        if not bad.any():
            continue
        badp = set(map(tuple, per.loc[bad, ["period_start", "period_end"]].to_numpy()))
        drop = groups[["period_start", "period_end"]].apply(tuple, axis=1).isin(badp)
        u = out.unplaced.setdefault(reason, Unplaced(reason))
        u.rows += int(groups.loc[drop, "rows"].sum())
        u.cost += float(groups.loc[drop, "cost"].sum())
        u.lines.extend([f"{a} – {b}" for a, b in list(badp)[:EXAMPLES]])
        groups = groups[~drop]
    per = per[~invalid & ~short]
    if months is not None and len(per):
        keep = per.sort_values("start").tail(months)
        kept = set(map(tuple, keep[["period_start", "period_end"]].to_numpy()))
        inside = groups[["period_start", "period_end"]].apply(tuple, axis=1).isin(kept)
        if (~inside).any():
            out.notices.append(f"{int(groups.loc[~inside, 'rows'].sum()):,} AI rows of earlier billing periods left out "
                               f"(--months {months}: the last {months} billing period(s) are used)")
        groups, per = groups[inside], keep
    if per.empty:
        return groups, [], 0.0
    # union of the periods' intervals (files of overlapping exports must not count a month twice)
    iv = per.sort_values("start")[["start", "end"]].to_numpy()
    days, cur_s, cur_e = 0.0, iv[0][0], iv[0][1]
    for s, e in iv[1:]:
        if s > cur_e:
            days += (cur_e - cur_s).total_seconds() / 86400
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    days += (cur_e - cur_s).total_seconds() / 86400
    periods = [(a.date().isoformat(), b.date().isoformat()) for a, b in iv]
    return groups, sorted(set(periods)), days


def annualise(cost: float | np.ndarray, days: float) -> float | np.ndarray:
    """Spend over `days` of billing -> spend per year (365.25 days)."""
    return cost * (365.25 / days) if days > 0 else cost * 0.0
