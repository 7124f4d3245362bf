"""Save, list, load, delete, compare, export and import assessments.

An assessment is stored as one row: inventory snapshot, answers, scenario library snapshot with the
probabilities used, and results (scores, simulation, concentration, heatmap), each as compressed
JSON, plus label, author, created_at and a content hash. One row = one INSERT = one transaction,
so a crash mid-save leaves the previous state intact."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from risk_models.auth.roles import Actor, Permission, local_user, require
from risk_models.config.domain import RowError
from risk_models.config.loader import Library
from risk_models.config.profile import OrgProfile
from risk_models.config.schema import AssumptionsFile
from risk_models.engine.assessment import Assessment
from risk_models.engine.concentration import concentration
from risk_models.inventory.export import inventory_text_frame
from risk_models.inventory.read import ImportResult, validate_table
from risk_models.questionnaire.answers import AnswerMap, answers_to_jsonable, validate_answers
from risk_models.scenarios.pack import pack_hash
from risk_models.storage import audit
from risk_models.storage.db import StorageError

PAYLOAD_VERSION = 1
EXPORT_FORMAT = "ai-vendor-risk-assessment"
metadata = MetaData()
assessments = Table(
    "assessments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", String(200), nullable=False), Column("author", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False), Column("content_hash", String(64), nullable=False),
    Column("payload_version", Integer, nullable=False),
    Column("inventory", LargeBinary, nullable=False), Column("answers", LargeBinary, nullable=False),
    Column("scenarios", LargeBinary, nullable=False), Column("results", LargeBinary, nullable=False),
    Column("deployments", Integer), Column("high_or_critical", Integer),
    Column("expected_annual_loss_usd", Float), Column("var95_usd", Float),
    # review status (migration 0003): draft → submitted → approved / returned
    Column("status", String(20), nullable=False, server_default="draft"),
    Column("submitted_by", String(200)), Column("submitted_at", DateTime(timezone=True)),
    Column("reviewed_by", String(200)), Column("reviewed_at", DateTime(timezone=True)),
    Column("review_comment", Text),
    # the identity provider's subject of the submitter and the reviewer (migration 0005): four-eyes by person
    Column("submitted_sub", String(400)), Column("reviewed_sub", String(400)),
)
PAYLOADS = ("inventory", "answers", "scenarios", "results")
REVIEW = ("status", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at", "review_comment")
SUMMARY = ("id", "label", "author", "created_at", "content_hash", "deployments", "high_or_critical",
           "expected_annual_loss_usd", "var95_usd", *REVIEW)


def _pack(obj: Any) -> bytes:
    return zlib.compress(json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str).encode(), 6)


def _unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


class DamagedAssessment(StorageError):
    """One stored row cannot be read; the others stay usable."""


def _check_label(label: str, what: str = "label") -> None:
    # PostgreSQL refuses NUL in text and SQLite stores it: one rule for both databases.
    if "\x00" in label:
        raise StorageError(f"the {what} contains a NUL character (\\x00); remove it")


def content_hash(payloads: dict[str, Any]) -> str:
    canon = json.dumps({k: payloads[k] for k in PAYLOADS}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode()).hexdigest()


# --- payloads from an assessment ------------------------------------------------------------
def snapshot(a: Assessment, organisation: str = "", register: dict[str, Any] | None = None,
             workspace: dict[str, Any] | None = None) -> dict[str, Any]:
    """`register`: the register version the assessment was made from ({version, hash, source}),
    kept inside the results payload (older saves have none: `register_of` returns None). `workspace`:
    what else of the workspace reopening restores (providers and contracts, the what-if plan), JSON."""
    frame = a.frame
    rows = inventory_text_frame(frame)
    t = a.residual.table
    dims = list(a.lib.scoring.dimensions)
    sim = a.simulation.summary(frame)
    outs = a.residual.outcomes
    results = {
        "organisation": organisation, "trials": a.simulation.trials, "seed": a.seed,
        "deployments": [
            {"deployment_id": d, "name": n, "business_unit": bu, "channel": ch, "model_vendor": mv,
             "score": round(float(s), 4), "inherent_score": round(float(i), 4), "likelihood": int(lk),
             "impact": int(im), "rating": r, "expected_loss_usd": round(float(el), 2),
             "dimensions": {k: round(float(t[k].iat[j]), 4) for k in dims}}
            for j, (d, n, bu, ch, mv, s, i, lk, im, r, el) in enumerate(zip(
                frame["deployment_id"], frame["name"], frame["business_unit"], frame["channel"], frame["model_vendor"],
                t["score"], a.inherent.table["score"], t["likelihood"], t["impact"], t["rating"],
                a.simulation.expected_by_deployment, strict=True))],
        "simulation": sim,
        "concentration": concentration(frame, a.lib),
        "organisation_profile": a.lib.profile.model_dump(mode="json"),
        "assumptions": a.lib.assumptions.model_dump(mode="json") if a.lib.assumptions else None,
        "reviewed_on": dt.datetime.now(dt.UTC).date().isoformat(),  # saving = reviewing its deployments (cadence)
    }
    if register is not None:
        results["register"] = dict(register)
    if workspace is not None:
        results["workspace"] = dict(workspace)
    return {
        "inventory": {"rows": rows.to_dict("records"), "lines": [int(x) for x in frame["line"]],
                      "rejected": [e.model_dump() for e in a.inventory.errors]},
        "answers": answers_to_jsonable(a.answers),
        "scenarios": {"as_of": a.lib.scenarios.as_of.isoformat(), "horizon_months": a.lib.scenarios.horizon_months,
                      "probabilities": {o: round(float(p), 6) for o, p in zip(outs.ids, outs.probability, strict=True)},
                      "labels": dict(zip(outs.ids, outs.labels, strict=True)),
                      "library": a.lib.scenarios.model_dump(mode="json"),
                      "pack": {"id": a.lib.scenarios.id, "version": a.lib.scenarios.version,
                               "hash": pack_hash(a.lib.scenarios)}},
        "results": results,
    }


def saved_pack(saved: Saved) -> dict:
    """Which scenario pack a saved assessment used: id, version, hash (None for saves made before
    packs were recorded; their full library is still in the payload)."""
    pack = saved.payloads["scenarios"].get("pack") or {}
    return {"id": pack.get("id"), "version": pack.get("version"), "hash": pack.get("hash"),
            "as_of": saved.payloads["scenarios"].get("as_of")}


def saved_settings(saved: Saved) -> tuple[OrgProfile | None, AssumptionsFile | None]:
    """The organisation profile and loss assumptions a saved assessment was made with (None for
    saves made before they were recorded, or when they no longer validate)."""
    res = saved.results
    try:
        profile = OrgProfile.model_validate(res["organisation_profile"]) if res.get("organisation_profile") else None
    except ValidationError:
        profile = None
    try:
        assumptions = AssumptionsFile.model_validate(res["assumptions"]) if res.get("assumptions") else None
    except ValidationError:
        assumptions = None
    return profile, assumptions


# --- the repository -----------------------------------------------------------------------------
@dataclass
class Saved:
    id: int
    label: str
    author: str
    created_at: dt.datetime
    content_hash: str
    payloads: dict[str, Any]
    # review (older databases: every save is a draft); approved = immutable
    status: str = "draft"
    submitted_by: str | None = None
    submitted_at: dt.datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None
    review_comment: str | None = None

    @property
    def results(self) -> dict:
        return self.payloads["results"]


def _guard(what: str):
    def deco(fn):
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except SQLAlchemyError as exc:
                raise StorageError(f"{what} failed: {getattr(exc, 'orig', exc)}") from None
        wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
        return wrapper
    return deco


def _summary_values(results: dict) -> dict:
    deps = results["deployments"]
    return {"deployments": len(deps), "high_or_critical": sum(d["rating"] in ("high", "critical") for d in deps),
            "expected_annual_loss_usd": results["simulation"]["expected_annual_loss_usd"],
            "var95_usd": results["simulation"]["var95_usd"]}


@_guard("saving the assessment")
def save_payloads(engine: Engine, payloads: dict[str, Any], label: str, author: str = "",
                  created_at: dt.datetime | None = None, actor: Actor | None = None, action: str = "create") -> int:
    """Store one assessment as a draft and write its audit entry in the same transaction.
    `actor`: who saves (None = the local single-user admin)."""
    return _store(engine, payloads, label, author, created_at, actor, action, dedupe=False)[0]


def _store(engine: Engine, payloads: dict[str, Any], label: str, author: str, created_at: dt.datetime | None,
           actor: Actor | None, action: str, dedupe: bool) -> tuple[int, bool]:
    """(id, stored): with `dedupe`, an assessment with the same content hash is found instead of stored
    again (under the audit lock, so two imports of one file at the same moment store it once)."""
    actor = actor or local_user()
    require(actor, Permission.save_draft)
    _check_label(label)
    _check_label(author, "author")
    row = {"label": label[:200], "author": author[:200],
           "created_at": created_at or dt.datetime.now(dt.UTC),
           "content_hash": content_hash(payloads), "payload_version": PAYLOAD_VERSION,
           **{k: _pack(payloads[k]) for k in PAYLOADS}, **_summary_values(payloads["results"])}
    with engine.begin() as conn:  # the row and its audit entry: one transaction
        if dedupe:
            audit.lock(conn)
            same = conn.execute(select(assessments.c.id).where(assessments.c.content_hash == row["content_hash"])
                                .order_by(assessments.c.id).limit(1)).scalar()
            if same is not None:
                return int(same), False
        new_id = int(conn.execute(insert(assessments).values(**row)).inserted_primary_key[0])
        audit.append(conn, actor.name, action, "assessment", str(new_id), after={
            "label": row["label"], "author": row["author"], "deployments": row["deployments"],
            "content_hash": row["content_hash"], "status": "draft"})
        return new_id, True


def save_assessment(engine: Engine, a: Assessment, label: str, author: str = "", organisation: str = "",
                    register: dict[str, Any] | None = None, actor: Actor | None = None,
                    workspace: dict[str, Any] | None = None) -> int:
    return save_payloads(engine, snapshot(a, organisation, register, workspace), label, author, actor=actor)


def register_of(saved: Saved) -> dict[str, Any] | None:
    """The register version a saved assessment was made from (None for saves made before
    register versions existed)."""
    return saved.results.get("register")


@_guard("listing assessments")
def list_assessments(engine: Engine) -> list[dict]:
    cols = [assessments.c[k] for k in SUMMARY]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).order_by(assessments.c.created_at, assessments.c.id)).mappings().all()
    return [{k: (_aware(v).isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()} for r in rows]


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


@_guard("loading the assessment")
def load(engine: Engine, assessment_id: int) -> Saved:
    with engine.connect() as conn:
        r = conn.execute(select(assessments).where(assessments.c.id == assessment_id)).mappings().first()
    if r is None:
        raise KeyError(f"no saved assessment with id {assessment_id}")
    payloads = {}
    for k in PAYLOADS:
        try:
            payloads[k] = _unpack(r[k])
        except (zlib.error, ValueError, TypeError) as exc:
            raise DamagedAssessment(
                f"assessment {assessment_id} is damaged: its stored {k} cannot be read ({type(exc).__name__}); "
                f"the other assessments are unaffected (`history check` lists damage; "
                f"`history delete {assessment_id} --yes` removes it)") from None
    review = {k: (_aware(r[k]) if isinstance(r[k], dt.datetime) else r[k]) for k in REVIEW}
    return Saved(r["id"], r["label"], r["author"], _aware(r["created_at"]), r["content_hash"], payloads, **review)


@_guard("checking the assessments")
def check(engine: Engine) -> list[dict]:
    """Every stored assessment that cannot be read or does not have the expected shape, with why."""
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(assessments.c.id).order_by(assessments.c.id))]
    damaged = []
    for assessment_id in ids:  # one row at a time: memory stays flat for many large assessments
        try:
            saved = load(engine, assessment_id)
            problem = payload_problem(saved.payloads)
        except DamagedAssessment as exc:
            problem = str(exc).split(": ", 1)[1].split("; the other")[0]
        if problem:
            damaged.append({"id": assessment_id, "problem": problem})
    return damaged


def payload_problem(payloads: dict[str, Any]) -> str | None:
    """None when the payloads have the shape every reader expects; otherwise the first problems."""
    from risk_models.storage.payloads import InventoryPayload, ResultsPayload, ScenariosPayload
    schemas = {"inventory": InventoryPayload, "scenarios": ScenariosPayload, "results": ResultsPayload}
    for key, schema in schemas.items():
        try:
            schema.model_validate(payloads[key])
        except ValidationError as exc:
            return f"{key}: " + "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                                          for e in exc.errors()[:5])
    if not isinstance(payloads["answers"], dict) or not all(isinstance(v, dict) for v in payloads["answers"].values()):
        return "answers: expected {deployment_id: {question_id: answer}}"
    return None


class ImmutableAssessment(StorageError):
    """An approved assessment cannot be changed or deleted: save a new version instead."""


@_guard("deleting the assessment")
def delete_assessment(engine: Engine, assessment_id: int, actor: Actor | None = None, reason: str = "") -> bool:
    actor = actor or local_user()
    require(actor, Permission.delete)
    with engine.begin() as conn:
        audit.lock(conn)
        r = conn.execute(select(assessments.c.label, assessments.c.status, assessments.c.content_hash)
                         .where(assessments.c.id == assessment_id)).first()
        if r is None:
            return False
        if r.status == "approved":
            raise ImmutableAssessment(f"assessment {assessment_id} is approved and cannot be deleted "
                                      "(an approved assessment is kept as the record)")
        conn.execute(delete(assessments).where(assessments.c.id == assessment_id))
        audit.append(conn, actor.name, "delete", "assessment", str(assessment_id),
                     before={"label": r.label, "status": r.status, "content_hash": r.content_hash}, reason=reason)
        return True


def reopen(saved: Saved, lib: Library) -> tuple[ImportResult, AnswerMap, dict[str, float]]:
    """The saved inputs, ready to assess again (inventory re-validated against today's config)."""
    inv = saved.payloads["inventory"]
    raw = pd.DataFrame(inv["rows"]).astype(str) if inv["rows"] else pd.DataFrame(columns=["deployment_id"])
    result = validate_table(raw, np.asarray(inv["lines"] or [], dtype=int), lib)
    result.errors = [RowError(**e) for e in inv["rejected"]] + result.errors
    answers, _ = validate_answers(saved.payloads["answers"], lib.questions, result.frame["deployment_id"])
    known = {o.id for e in lib.events for o in e.outcomes}
    probs = {o: p for o, p in saved.payloads["scenarios"]["probabilities"].items() if o in known}
    return result, answers, probs


# --- compare ------------------------------------------------------------------------------------
def diff(old: Saved, new: Saved) -> dict:
    """What changed from `old` to `new`: deployments, scores, ratings, heatmap cells, losses,
    scenario probabilities and questionnaire answers."""
    a = {d["deployment_id"]: d for d in old.results["deployments"]}
    b = {d["deployment_id"]: d for d in new.results["deployments"]}
    changed = []
    for dep in sorted(a.keys() & b.keys()):
        x, y = a[dep], b[dep]
        if (abs(x["score"] - y["score"]) > 0.005 or x["rating"] != y["rating"]
                or (x["likelihood"], x["impact"]) != (y["likelihood"], y["impact"])):
            changed.append({"deployment_id": dep, "name": y["name"], "score_before": round(x["score"], 2),
                            "score_after": round(y["score"], 2), "score_delta": round(y["score"] - x["score"], 2),
                            "rating_before": x["rating"], "rating_after": y["rating"],
                            "cell_before": [x["likelihood"], x["impact"]], "cell_after": [y["likelihood"], y["impact"]],
                            "expected_loss_delta_usd": round(y["expected_loss_usd"] - x["expected_loss_usd"], 2)})
    cells = {}
    for side, deps in (("before", a), ("after", b)):
        for d in deps.values():
            cells.setdefault((d["likelihood"], d["impact"]), {"before": 0, "after": 0})[side] += 1
    pa, pb = old.payloads["scenarios"]["probabilities"], new.payloads["scenarios"]["probabilities"]
    labels = {**old.payloads["scenarios"].get("labels", {}), **new.payloads["scenarios"].get("labels", {})}
    sa, sb = old.results["simulation"], new.results["simulation"]
    return {
        "from": {"id": old.id, "label": old.label, "created_at": old.created_at.isoformat()},
        "to": {"id": new.id, "label": new.label, "created_at": new.created_at.isoformat()},
        "added": sorted(b.keys() - a.keys()), "removed": sorted(a.keys() - b.keys()),
        "changed": sorted(changed, key=lambda c: -abs(c["score_delta"])),
        "heatmap": [{"likelihood": k[0], "impact": k[1], **v, "delta": v["after"] - v["before"]}
                    for k, v in sorted(cells.items(), reverse=True) if v["after"] != v["before"]],
        "portfolio": {k: {"before": sa[k], "after": sb[k], "delta": round(sb[k] - sa[k], 2)}
                      for k in ("expected_annual_loss_usd", "var90_usd", "var95_usd", "var99_usd")},
        "scenario_changes": [{"outcome_id": o, "label": labels.get(o, o), "before": pa.get(o), "after": pb.get(o)}
                             for o in sorted(pa.keys() | pb.keys()) if pa.get(o) != pb.get(o)],
        "answer_changes": _answer_changes(old.payloads["answers"], new.payloads["answers"]),
        "scenario_pack": {"before": saved_pack(old), "after": saved_pack(new)},
    }


def _answer_changes(a: dict, b: dict) -> list[dict]:
    out = []
    for dep in sorted(a.keys() | b.keys()):
        qa, qb = a.get(dep, {}), b.get(dep, {})
        out += [{"deployment_id": dep, "question_id": q, "before": qa.get(q), "after": qb.get(q)}
                for q in sorted(qa.keys() | qb.keys()) if qa.get(q) != qb.get(q)]
    return out


# --- export / import --------------------------------------------------------------------------
class ExportFile(BaseModel):
    """Validated shape of an exported assessment (import gives clear errors on anything else)."""

    model_config = ConfigDict(extra="forbid")
    format: str = Field(pattern=f"^{EXPORT_FORMAT}$")
    signature: dict[str, str] | None = None
    payload_version: int = Field(ge=1, le=PAYLOAD_VERSION)
    label: str = Field(min_length=1, max_length=200)
    author: str = Field(default="", max_length=200)
    created_at: dt.datetime
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    inventory: dict[str, Any]
    answers: dict[str, dict[str, Any]]
    scenarios: dict[str, Any]
    results: dict[str, Any]


def export_document(saved: Saved) -> dict:
    """The lossless export, signed with this installation's key (see signing.py)."""
    from risk_models.storage.signing import sign
    return sign({"format": EXPORT_FORMAT, "payload_version": PAYLOAD_VERSION, "label": saved.label,
                 "author": saved.author, "created_at": saved.created_at.isoformat(),
                 "content_hash": saved.content_hash, **saved.payloads})


class UntrustedExport(ValueError):
    """Unsigned, or signed by another installation: imported only when the user says --trust."""


def import_document(engine: Engine, data: object, trust: bool = False, lib: Library | None = None,
                    actor: Actor | None = None) -> int:
    """Validate (shape, content hash, signature) and store; nothing is stored unless all pass.
    `lib`: when given, the inventory rows are also re-validated by the importer. Idempotent: importing
    content already stored (same content hash) returns that assessment's id and adds nothing."""
    return import_export(engine, data, trust, lib, actor)[0]


@_guard("importing the assessment")
def import_export(engine: Engine, data: object, trust: bool = False, lib: Library | None = None,
                  actor: Actor | None = None) -> tuple[int, bool]:
    """import_document, with whether a new assessment was stored (False: the same content was there)."""
    from risk_models.storage.signing import verify
    try:
        doc = ExportFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()[:8])
        raise ValueError(f"not a valid assessment export: {problems}") from None
    payloads = {k: getattr(doc, k) for k in PAYLOADS}
    problem = payload_problem(payloads)
    if problem:
        raise ValueError(f"not a valid assessment export: {problem}")
    if content_hash(payloads) != doc.content_hash:
        raise ValueError("the export's content hash does not match its content: the file was changed or damaged")
    if "\x00" in doc.label or "\x00" in doc.author:
        raise ValueError("not a valid assessment export: the label or author contains a NUL character")
    if lib is not None:
        inv = payloads["inventory"]
        try:
            validate_table(pd.DataFrame(inv["rows"]).astype(str) if inv["rows"] else
                           pd.DataFrame(columns=["deployment_id"]), np.asarray(inv["lines"], dtype=int), lib)
        except ValueError as exc:
            raise ValueError(f"not a valid assessment export: inventory: {exc}") from None
    untrusted = verify(data)  # type: ignore[arg-type]
    if untrusted and not trust:
        raise UntrustedExport(f"{untrusted}; import it only if you trust its source (--trust)")
    # replaying one export (or importing our own back) adds nothing: one row per content hash
    return _store(engine, payloads, doc.label, doc.author, doc.created_at, actor, "import", dedupe=True)
