"""FOCUS billing exports (1.0-1.2, CSV or Parquet) -> AI spend per draft deployment.

Streamed with pyarrow in record batches (Parquet `iter_batches`, CSV `open_csv`), each batch reduced
at once to partial sums per (key, channel, model, region, billing period), so memory stays bounded
by the number of deployments, not rows. Every AI row that cannot be placed is counted with its
reason and example lines; non-AI rows are counted per service.
"""

from __future__ import annotations

import datetime as dt
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

BATCH_ROWS = 131_072
CSV_BLOCK = 8 << 20
EXAMPLES = 5
GROUP = ["key", "name", "channel", "model", "region", "period_start", "period_end"]


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
    return {f: c for f, c in cols.items() if c is not None}


def _batches(path: Path, disc: DiscoveryFile, key: str):
    """(column map, model text columns, iterator of pyarrow batches, first line number, unit)."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise FocusFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise FocusFileError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise FocusFileError(f"{path}: cannot read ({exc.strerror})") from None
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


def _tag_values(arr: pa.Array | pa.ChunkedArray, tag: str) -> pd.Series:
    """The value of one tag per row: Parquet map columns (AWS) or JSON object text (CSV, Azure, GCP)."""
    if pa.types.is_map(arr.type):
        return pc.map_lookup(arr, pa.scalar(tag), "first").to_pandas().fillna("").astype(str)
    s = arr.to_pandas().fillna("").astype(str)
    codes, uniq = pd.factorize(s)

    def one(text: str) -> str:
        try:
            obj = json.loads(text) if text.strip() else {}
        except ValueError:
            return ""
        v = obj.get(tag) if isinstance(obj, dict) else None
        return "" if v is None else str(v)
    vals = np.array([one(u) for u in uniq] or [""], dtype=object)
    return pd.Series(vals[codes] if len(codes) else [], index=s.index, dtype=object)


def _text(batch: pa.RecordBatch, col: str | None) -> pd.Series:
    if col is None:
        return pd.Series("", index=range(batch.num_rows), dtype=object)
    arr = batch.column(col)
    if pa.types.is_timestamp(arr.type):
        return arr.to_pandas().dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    return arr.to_pandas().astype(object).where(lambda s: s.notna(), "").astype(str)


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
    """One batch -> partial sums of its AI rows; the rest counted (non-AI per service, unplaced per reason)."""
    provider, publisher, service = (_text(batch, cols.get(f)) for f in ("provider", "publisher", "service"))
    cls = classify(provider, publisher, service, disc.rules)
    ai = (cls["channel"] != "").to_numpy()
    if (~ai).any():
        for svc, c in service[~ai].replace("", "(no service name)").value_counts().items():
            services[svc] = services.get(svc, 0) + int(c)
    if not ai.any():
        return
    idx = np.flatnonzero(ai)
    out.ai_rows += len(idx)
    sub = batch.take(pa.array(idx))
    where = (label, idx + start)
    cost_col = sub.column(cols["cost"])
    cost = pd.to_numeric(cost_col.to_pandas(), errors="coerce").astype(float) if not pa.types.is_floating(
        cost_col.type) else cost_col.to_pandas().astype(float)
    category = _text(sub, cols.get("category")).str.strip()
    currency = _text(sub, cols["currency"]).str.strip().str.upper()
    bad_cost = cost.isna().to_numpy() | ~np.isfinite(cost.to_numpy())
    _note(out, bad_cost, f"{cols['cost']} is not a number", where)
    ok = ~bad_cost
    if "category" in cols:
        not_spend = ok & ~category.str.casefold().isin(spend).to_numpy()
        for cat in category[not_spend].unique():
            _note(out, not_spend & (category == cat).to_numpy(),
                  f"charge category {cat or '(blank)'!r} is not counted as spend (counted: "
                  f"{', '.join(disc.spend_categories)})", where, cost)
        ok &= ~not_spend
    rate = currency.map(rates).astype(float)
    no_rate = ok & rate.isna().to_numpy()
    for cur in currency[no_rate].unique():
        _note(out, no_rate & (currency == cur).to_numpy(),
              f"billed in {cur or '(blank)'}; no exchange rate to USD given (--rates)", where, cost)
    ok &= ~no_rate
    if kind == "tag":
        keyv = _tag_values(sub.column(cols["tags"]), tag)
        name = keyv
        _note(out, ok & (keyv.str.strip() == "").to_numpy(), f"no {tag!r} tag", where, cost)
    elif kind == "resource":
        keyv = _text(sub, cols["resource_id"])
        name = _text(sub, cols.get("resource_name"))
        _note(out, ok & (keyv.str.strip() == "").to_numpy(), f"no {cols['resource_id']} (resource id) to group by",
              where, cost)
    else:
        keyv = _text(sub, cols["subaccount_id"])
        name = _text(sub, cols.get("subaccount_name"))
        _note(out, ok & (keyv.str.strip() == "").to_numpy(), f"no {cols['subaccount_id']} (sub-account) to group by",
              where, cost)
    ok &= (keyv.str.strip() != "").to_numpy()
    model = pd.Series("", index=keyv.index, dtype=object)
    for c in texts:
        todo = model == ""
        if not todo.any():
            break
        model[todo] = find_model(_text(sub, c)[todo], disc.models)
    frame = pd.DataFrame({
        "key": keyv.str.strip(), "name": name.str.strip(), "channel": cls["channel"].to_numpy()[idx],
        "model": model, "region": _text(sub, cols.get("region")).str.strip(),
        "period_start": _text(sub, cols["period_start"]).str.strip(),
        "period_end": _text(sub, cols["period_end"]).str.strip(),
        "cost": cost.to_numpy() * np.nan_to_num(rate.to_numpy(), nan=0.0), "rows": 1})[ok]
    if len(frame):
        parts.append(_sum(frame))


def _to_date(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, utc=True, errors="coerce", format="mixed")


def _periods(groups: pd.DataFrame, months: int | None, out: FocusImport) -> tuple[pd.DataFrame, list, float]:
    """Billing periods covered (optionally only the last `months`) and their total length in days."""
    if groups.empty:
        return groups, [], 0.0
    per = groups[["period_start", "period_end"]].drop_duplicates()
    per = per.assign(start=_to_date(per["period_start"]), end=_to_date(per["period_end"]))
    bad = per["start"].isna() | per["end"].isna() | (per["end"] <= per["start"])
    if bad.any():
        badp = set(map(tuple, per.loc[bad, ["period_start", "period_end"]].to_numpy()))
        drop = groups[["period_start", "period_end"]].apply(tuple, axis=1).isin(badp)
        u = out.unplaced.setdefault("billing period is not a valid date range",
                                    Unplaced("billing period is not a valid date range"))
        u.rows += int(groups.loc[drop, "rows"].sum())
        u.cost += float(groups.loc[drop, "cost"].sum())
        u.lines.extend([f"{a} – {b}" for a, b in list(badp)[:EXAMPLES]])
        groups, per = groups[~drop], per[~bad]
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


def today() -> dt.date:
    return dt.date.today()
