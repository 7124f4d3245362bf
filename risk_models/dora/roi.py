"""The DORA register of information from one assessment plus its providers and contracts: every template
of the module (B_01.01 ... B_07.01, B_99.01) as frames of EBA codes (columns c0010 ...), each value from
the firm's data or reported missing, and validated (risk_models.dora.checks). The supply chain is in
dora.chain, the writers (xBRL-CSV package, XLSX) in dora.package, the records in dora.model."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pandas as pd

from risk_models.config.loader import norm_key
from risk_models.config.profile import RegisterEntity
from risk_models.dora.chain import region_countries, supply_chain
from risk_models.dora.checks import validate_register
from risk_models.dora.ict_assessment import (
    IMPACT as ICT_IMPACT,
)
from risk_models.dora.ict_assessment import (
    IMPACT_ORDER,
    REINTEGRATION_ORDER,
    SUBSTITUTABILITY_ORDER,
    combine,
    ict_assessment,
)
from risk_models.dora.model import (
    CRIT_ORDER,
    LEGAL_PERSON,
    LEI_CODE,
    LINK,
    NO,
    NOT_A_BRANCH,
    OPEN_END,
    OVERARCHING,
    RELIANCE_ORDER,
    SENS_ORDER,
    SENSITIVENESS,
    STANDALONE,
    SUBSEQUENT,
    YES,
    Finding,
    Register,
)
from risk_models.dora.rules import existence_rule
from risk_models.dora.spec import RateTable, RoiSpec, load_rates
from risk_models.engine.assessment import Assessment
from risk_models.providers.ctpp import CtppList, ctpp_status, load_ctpp
from risk_models.providers.lei import lei_problem
from risk_models.providers.records import (
    NOT_A_PROVIDER,
    ProviderBook,
    identifier,
)


def _code(labels: dict[str, str], text: str) -> str:
    """An EBA code given as the code itself or as its label ('' when neither)."""
    if text in labels:
        return text
    return {norm_key(v): k for k, v in labels.items()}.get(norm_key(text), "")


def _days(v: object) -> int | str:
    return "" if v is None or pd.isna(v) else int(v)


def _reliance(criticality: str, fallback: str) -> str:
    if fallback == "active":
        return "eba_ZZ:x795"
    if criticality in ("critical", "high"):
        return "eba_ZZ:x797" if fallback == "none" else "eba_ZZ:x796"
    return "eba_ZZ:x796" if criticality == "medium" else "eba_ZZ:x795"


def _latin(name: str) -> bool:
    """The name is written in the Latin alphabet (B_05.01 c0060 then repeats it)."""
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in name)


def _ultimate_parent(pid: str, providers: dict[str, dict]) -> str:
    seen = {pid}
    while (parent := providers[pid]["parent"]) and parent in providers and parent not in seen:
        seen.add(parent)
        pid = parent
    return pid


# answers of the questionnaire -> EBA codes (what the firm said; unanswered / "unknown" = missing)
SUBSTITUTABILITY = {"easy": "eba_ZZ:x962", "medium": "eba_ZZ:x961", "complex": "eba_ZZ:x960",
                    "not_substitutable": "eba_ZZ:x959"}
EXIT_PLAN = {"tested": YES, "documented": YES, "none": NO}
YES_NO = {"yes": YES, "no": NO}
REINTEGRATION = {"easy": "eba_ZZ:x798", "difficult": "eba_ZZ:x966", "highly_complex": "eba_ZZ:x967"}
NON_SUBST_REASON = {"lack_of_alternatives": "eba_ZZ:x963", "migration": "eba_ZZ:x964", "both": "eba_ZZ:x965"}


def _answered(a: Assessment, qid: str) -> pd.Series:
    """The firm's explicit answer per deployment (None where unanswered); never the default. What the
    inventory states answers too (a tested fallback is a tested exit: Assessment.answers_in_effect)."""
    answers = a.answers_in_effect
    return a.frame["deployment_id"].map(lambda d: answers.get(d, {}).get(qid)).astype(object)


def _ids(deps: list[str], n: int = 6) -> str:
    return ", ".join(deps[:n]) + (f" and {len(deps) - n} more" if len(deps) > n else "")


def _worst(values: list[str], order: list[str]) -> str:
    return max(values, key=order.index)


def _base_amount(amount: float, currency: str, base: str, rates: RateTable, on: dt.date) -> tuple[float | None, str]:
    """(amount in the base currency, the rate used as text) or (None, why not)."""
    if currency == base:
        return amount, ""
    src, dst = rates.lookup(currency, on), rates.lookup(base, on)
    if src is None or dst is None:
        missing = currency if src is None else base
        return None, (f"no {missing} reference rate dated {on:%Y-%m-%d} or up to {rates.max_age_days} days before "
                      f"in the rate table; give one with --rates FILE")
    value = amount / src.per_eur * dst.per_eur
    used = f"{currency} {src.per_eur:g} per EUR ({src.date:%Y-%m-%d})" + (
        f", {base} {dst.per_eur:g} per EUR ({dst.date:%Y-%m-%d})" if base != "EUR" else "")
    return round(value, 2), used


def build_register(a: Assessment, book: ProviderBook, spec: RoiSpec, reference_date: dt.date,
                   ict: pd.DataFrame | None = None, rates: RateTable | None = None,
                   ctpp: CtppList | None = None) -> Register:
    """Every filed value comes from the firm's data (inventory, answers, profile, providers,
    contracts) or is left blank and reported missing; the fallback recommender only fills
    `Register.suggested`. `ict`: the recommender's B_07.01 values per deployment when the caller
    already has them (ict_assessment); `rates`: the reference rate table (default config/fx_rates.yaml)."""
    entity = a.lib.profile.dora or RegisterEntity()
    rates = rates or load_rates()
    base = entity.currency.upper()
    findings: list[Finding] = []
    lei = entity.lei
    if lei and (p := lei_problem(lei)):
        findings.append(Finding(template="B_01.01", row=1, column="c0010", label="LEI of the entity", kind="invalid",
                                message=f"{lei!r}: {p}"))
    providers = book.provider_by_id
    contracts = book.contract_by_ref
    frame = a.frame.reset_index(drop=True)
    inventory_ids = set(frame["deployment_id"])
    linked_ids = set(book.links["deployment_id"])
    unlinked = [d for d in frame["deployment_id"] if d not in linked_ids]
    unknown_links = sorted(linked_ids - inventory_ids)
    own = {c for c, ch in a.lib.channels.channels.items() if ch.cloud_provider in NOT_A_PROVIDER}
    for d, name, unit, channel in frame.loc[frame["deployment_id"].isin(unlinked),
                                            ["deployment_id", "name", "business_unit", "channel"]].itertuples(index=False):
        why = (" It runs on your own infrastructure: the licence of its model, its hosting or its support are ICT "
               "services too (e.g. S13 software licensing) when a third party supplies them." if channel in own else "")
        findings.append(Finding(
            template="B_02.02", row=None, key=str(d), kind="missing",
            message=f"deployment {d} ({name}, {unit}) links to no contract, so the ICT service it uses is not in the "
                    f"register: add its id to the deployments column of its contract (or add the contract).{why}"))
    t = a.residual.table
    country = region_countries(a).fillna("")
    answered = {q: _answered(a, q) for q in ("rto_hours", "rpo_hours", "substitutability", "exit_plan_exists",
                                             "alternative_providers_identified", "reintegration",
                                             "non_substitutability_reason", "data_stored_by_provider",
                                             "logs_data_location", "inference_data_location",
                                             "critical_ict_provider", "exit_last_tested") if q in a.lib.questions}
    none = pd.Series([None] * len(frame), dtype=object)
    dep = frame.assign(country=country.to_numpy(), rating=t["rating"].astype(str).to_numpy(),
                       **{f"ans_{q}": s.to_numpy() for q, s in answered.items()})
    for q in ("rto_hours", "rpo_hours", "substitutability", "exit_plan_exists", "alternative_providers_identified",
              "reintegration", "non_substitutability_reason", "data_stored_by_provider", "logs_data_location",
              "inference_data_location", "critical_ict_provider", "exit_last_tested"):
        if f"ans_{q}" not in dep:
            dep[f"ans_{q}"] = none.to_numpy()
    # where the firm says the data is processed / stored: the deployment's region's country when answered in-region
    in_region = dep["country"].where(dep["ans_inference_data_location"] == "in_region", "")
    stored = dep["ans_data_stored_by_provider"].map(YES_NO).fillna("")
    dep["processing"] = in_region.fillna("")
    dep["stored"] = stored
    dep["storage"] = dep["country"].where((stored == YES) & (dep["ans_logs_data_location"] == "in_region"), "")
    dep = dep.merge(book.links, on="deployment_id", how="inner")
    ict = ict if ict is not None else ict_assessment(a, spec)
    dep = dep.merge(ict.add_prefix("sug_").rename(columns={"sug_deployment_id": "deployment_id"}),
                    on="deployment_id", how="left")
    question_text = {q.dora_field: f"the question '{q.text}' ({q.id})" for q in a.lib.questions.values()
                     if q.dora_field}

    def unanswered(template: str, row: int, key: str, code: str, deps: list[str], extra: str = "") -> None:
        where = question_text.get(f"{template}.{code[1:]}", "the questionnaire")
        findings.append(Finding(
            template=template, row=row, key=key, column=code, label=spec.templates[template].columns[code].label,
            kind="missing", message=f"not answered for {_ids(deps)}{extra}: answer {where}; the tool never fills "
                                    "a filed cell on the firm's behalf"))

    # functions: one per business unit with linked deployments (F1.. in name order: stable between runs)
    units = sorted(dep["business_unit"].astype(str).unique())
    fid = {u: f"F{i + 1}" for i, u in enumerate(units)}
    dep["function"] = dep["business_unit"].astype(str).map(fid)
    table = {f.business_unit: f for f in entity.functions}
    # a function is treated as critical for the mandatory checks unless the firm says it is not
    critical_units = {u for u in units if (f := table.get(u)) is None or f.critical_or_important is not False}

    b0101 = pd.DataFrame([{
        "c0010": lei, "c0020": a.lib.profile.name, "c0030": entity.country.upper(),
        "c0040": _code(spec.lists["entity_type"], entity.entity_type), "c0050": entity.competent_authority,
        "c0060": reference_date.isoformat()}])

    b0102 = pd.DataFrame([{
        "c0010": lei, "c0020": a.lib.profile.name, "c0030": entity.country.upper(),
        "c0040": _code(spec.lists["entity_type"], entity.entity_type),
        "c0050": _code(spec.lists["hierarchy"], entity.hierarchy), "c0060": entity.parent_lei,
        "c0070": entity.register_updated.isoformat() if entity.register_updated else "",
        # not deleted from the register: the ESAs' placeholder date (RoI FAQ), a value rule e23676_e requires
        "c0080": entity.register_since.isoformat() if entity.register_since else "", "c0090": OPEN_END,
        "c0100": base, "c0110": "" if entity.total_assets is None else round(float(entity.total_assets), 2)}])
    if entity.parent_lei and (p := lei_problem(entity.parent_lei)):
        findings.append(Finding(template="B_01.02", row=1, column="c0060", label="LEI of the direct parent",
                                kind="invalid", message=f"{entity.parent_lei!r}: {p}"))

    crows = list(contracts.values())
    fx_used: set[str] = set()
    base_spend: dict[str, float | None] = {}
    b0201_rows = []
    framework = {c.get("overarching_contract", "") for c in crows} - {""}  # named by a subsequent contract
    for i, c in enumerate(crows):
        amount, how = _base_amount(float(c["annual_spend"]), c["currency"], base, rates, reference_date)
        base_spend[c["contract_ref"]] = amount
        if amount is None:
            findings.append(Finding(template="B_02.01", row=i + 1, key=c["contract_ref"], column="c0050",
                                    label=spec.templates["B_02.01"].columns["c0050"].label, kind="missing",
                                    message=f"the contract's {c['annual_spend']:,.2f} {c['currency']} cannot be reported "
                                            f"in {base}: {how}"))
        elif how:
            fx_used.add(how)
        parent = c.get("overarching_contract", "")
        kind = SUBSEQUENT if parent else OVERARCHING if c["contract_ref"] in framework else STANDALONE
        b0201_rows.append({"c0010": c["contract_ref"], "c0020": kind, "c0030": parent, "c0040": base,
                           "c0050": "" if amount is None else amount})
    b0201 = pd.DataFrame(b0201_rows, columns=list(spec.templates["B_02.01"].columns))

    b0202_rows, b0202_crit = [], set()
    keys = ["contract_ref", "function", "processing", "storage"]
    for (ref, fn, processing, storage), g in dep.groupby(keys, sort=True):
        c = contracts[ref]
        p = providers[c["provider_id"]]
        unit = g["business_unit"].iat[0]
        row = len(b0202_rows) + 1
        if unit in critical_units:
            b0202_crit.add(row - 1)
        flags = list(g["stored"])
        store = YES if YES in flags else NO if flags and all(f == NO for f in flags) else ""
        if store == "" and unit in critical_units:
            unanswered("B_02.02", row, ref, "c0140", list(g.loc[g["stored"] == "", "deployment_id"]))
        nowhere = sorted({str(r) for r in g.loc[g["country"] == "", "region"]})
        place = (f"; the region(s) {', '.join(nowhere)} name no single country: map them in the profile's "
                 "dora.locations (region: country)" if nowhere else "")
        if store == YES and not storage:
            unanswered("B_02.02", row, ref, "c0150", list(g.loc[g["stored"] == YES, "deployment_id"]),
                       " ('In-region' names the country of the region; a data zone or global storage has no single "
                       f"country{place})")
        if c["end"] and c["end"] <= reference_date and not c.get("termination_reason"):
            findings.append(Finding(
                template="B_02.02", row=row, key=ref, column="c0090", label=spec.templates["B_02.02"].columns[
                    "c0090"].label, kind="missing",
                message=f"the contract ended on {c['end']:%d %b %Y}: give the reason in the contracts file, column "
                        "termination_reason (e.g. expired and not renewed)"))
        if not processing and unit in critical_units:
            unanswered("B_02.02", row, ref, "c0160", list(g["deployment_id"]),
                       " ('In-region' names the country of the region; a data zone or global processing has no single "
                       f"country{place})")
        b0202_rows.append({
            "c0010": ref, "c0020": lei, "c0030": identifier(p)[0], "c0040": identifier(p)[1], "c0050": fn,
            "c0060": c["ict_service_type"], "c0070": c["start"].isoformat(),
            "c0080": c["end"].isoformat() if c["end"] else OPEN_END, "c0090": c.get("termination_reason", ""),
            "c0100": _days(c["notice_period_days"]), "c0110": _days(c["provider_notice_period_days"]),
            "c0120": c["governing_law"], "c0130": p["country"], "c0140": store,
            "c0150": storage if store == YES else "", "c0160": processing,
            "c0170": max(g["data_sensitivity"].map(SENSITIVENESS), key=SENS_ORDER.index),
            "c0180": max((_reliance(cr, fb) for cr, fb in zip(g["criticality"], g["fallback_status"], strict=True)),
                         key=RELIANCE_ORDER.index),
        })
    b0202 = pd.DataFrame(b0202_rows, columns=list(spec.templates["B_02.02"].columns))
    # the mandatory checks below report these cells missing already; the messages above say where to answer
    b0301 = pd.DataFrame([{"c0010": c["contract_ref"], "c0020": lei, "c0030": LINK} for c in crows],
                         columns=list(spec.templates["B_03.01"].columns))
    # an individual register: the entity itself uses every service (no branches, no intra-group providers)
    b0401 = pd.DataFrame([{"c0010": c["contract_ref"], "c0020": lei, "c0030": NOT_A_BRANCH, "c0040": ""}
                          for c in crows], columns=list(spec.templates["B_04.01"].columns))
    empty = {k: pd.DataFrame(columns=list(spec.templates[k].columns)) for k in ("B_01.03", "B_02.03", "B_03.03")}
    b0302 = pd.DataFrame([dict(zip(("c0010", "c0020", "c0030"), (c["contract_ref"], *identifier(
        providers[c["provider_id"]])), strict=True)) for c in crows], columns=["c0010", "c0020", "c0030"])

    ctpp = ctpp or load_ctpp()
    chain = supply_chain(a, book, ctpp)
    b0502_rows = []
    keys = ["contract_ref", "rank", "provider_id", "vendor", "recipient_id"]
    for (ref, rank, pid, vendor, recipient_id), g in chain.groupby(keys, sort=True):
        c = contracts[ref]
        if not pid:
            findings.append(Finding(
                template="B_05.02", row=None, key=ref, column="c0030", label="Identification code of the provider",
                kind="broken reference", rule="807",
                message=f"the {g['role'].iat[0]} {a.lib.vendor_label(vendor)} behind contract {ref} "
                        f"(deployments {', '.join(g['deployment_id'].astype(str).head(5))}) has no row in the providers "
                        "file, so B_05.01 cannot list it; add the provider with its LEI and vendor"))
        code, ctype = identifier(providers[pid]) if pid else ("", LEI_CODE)
        # the recipient is a key of B_05.02 (EBA annotated layout; rule 805): rank 1 names the provider itself
        recipient, rtype = (code, ctype) if rank == 1 else identifier(providers[recipient_id]) if recipient_id \
            else ("", "")
        b0502_rows.append({"c0010": ref, "c0020": c["ict_service_type"], "c0030": code,
                           "c0040": ctype, "c0050": int(rank), "c0060": recipient,
                           "c0070": rtype if recipient else ""})
    b0502 = pd.DataFrame(b0502_rows, columns=list(spec.templates["B_05.02"].columns))

    in_register = list(dict.fromkeys([c["provider_id"] for c in crows]
                                     + [p for p in chain.loc[chain["rank"] > 1, "provider_id"] if p]))
    # the ultimate parents have rows of their own: B_05.01 c0110 is a foreign key into B_05.01 (EBA rule 807)
    tops = [t for t in dict.fromkeys(_ultimate_parent(pid, providers) for pid in in_register) if t not in in_register]
    b0501_rows = []
    for pid in in_register + tops:
        p = providers[pid]
        own = [base_spend[c["contract_ref"]] for c in crows if c["provider_id"] == pid]
        total = round(sum(own), 2) if own and None not in own else ""
        top = _ultimate_parent(pid, providers)
        b0501_rows.append({
            # the LEI when the provider has one (its other code then additional), else its other code
            **dict(zip(("c0010", "c0020"), identifier(p), strict=True)),
            "c0030": p["code"] if p["lei"] else "", "c0040": p["code_type"] if p["lei"] and p["code"] else "",
            "c0050": p["name"],
            "c0060": p["name"] if _latin(p["name"]) else "",
            "c0070": LEGAL_PERSON, "c0080": p["country"], "c0090": base if own and total != "" else "",
            "c0100": total,
            # a provider with no group names itself (ESAs' RoI FAQ, as open implementations follow it)
            **dict(zip(("c0110", "c0120"), identifier(providers[top]), strict=True))})
    b0501 = pd.DataFrame(b0501_rows, columns=list(spec.templates["B_05.01"].columns))
    # the providers file's CTPP flag against the ESAs' dated list (config/ctpp.yaml)
    status = ctpp_status(book.providers, ctpp)
    for i, pid in enumerate(in_register):
        p, st = providers[pid], status.get(pid, "")
        if bool(p["designated_critical"]) != (st != ""):
            findings.append(Finding(
                template="B_05.01", row=i + 1, key=identifier(p)[0], column="c0050", label="Legal name of the provider",
                kind="contradiction",
                message=f"the providers file marks {p['name']} ({pid}) as {'' if p['designated_critical'] else 'not '}"
                        f"a designated critical ICT third-party provider, but the ESAs' list of "
                        f"{ctpp.as_of:%d %b %Y} {'names it' if st == 'designated' else 'names it as parent of a designated provider' if st == 'group' else 'does not name it or a subsidiary of it in the providers file'}; "
                        "correct the designated_critical column (or the legal name), or replace the list with --ctpp"))

    b0601_rows, b0601_suggested = [], []
    for unit in units:
        g = dep[dep["business_unit"] == unit]
        f = table.get(unit)
        crit = g["criticality"].map(CRIT_ORDER.index).max()
        rto = f.rto_hours if f and f.rto_hours is not None else min(
            (float(v) for v in g["ans_rto_hours"] if pd.notna(v)), default=None)
        rpo = f.rpo_hours if f and f.rpo_hours is not None else min(
            (float(v) for v in g["ans_rpo_hours"] if pd.notna(v)), default=None)
        flag = None if f is None else f.critical_or_important
        b0601_rows.append({
            "c0010": fid[unit], "c0020": _code(spec.lists["licensed_activity"], f.licensed_activity if f else ""),
            "c0030": unit, "c0040": lei, "c0050": "" if flag is None else YES if flag else NO,
            "c0060": f.criticality_reason if f else "",
            "c0070": f.last_assessed.isoformat() if f and f.last_assessed else "",
            "c0080": "" if rto is None else int(round(rto)), "c0090": "" if rpo is None else int(round(rpo)),
            "c0100": ["eba_ZZ:x791", "eba_ZZ:x792", "eba_ZZ:x793", "eba_ZZ:x793"][int(crit)]})
        n_high = int(g["criticality"].isin(["critical", "high"]).sum())
        b0601_suggested.append({"c0050": YES if n_high else NO,
                                "c0060": f"supported by {n_high} AI deployment(s) of critical or high criticality"
                                if n_high else ""})
    b0601 = pd.DataFrame(b0601_rows, columns=list(spec.templates["B_06.01"].columns))

    b0701_rows, b0701_suggested = [], []
    for (ref, service), g in dep.groupby(["contract_ref", dep["contract_ref"].map(
            lambda r: contracts[r]["ict_service_type"])], sort=True):
        c = contracts[ref]
        row = len(b0701_rows) + 1
        deps = list(g["deployment_id"])
        audit = c["last_audit"] if isinstance(c["last_audit"], dt.date) else None
        values: dict[str, str] = {}
        for code, col, codes, order in (
                ("c0050", "ans_substitutability", SUBSTITUTABILITY, SUBSTITUTABILITY_ORDER),
                ("c0080", "ans_exit_plan_exists", EXIT_PLAN, [YES, NO]),
                ("c0090", "ans_reintegration", REINTEGRATION, REINTEGRATION_ORDER),
                ("c0110", "ans_alternative_providers_identified", YES_NO, [YES, NO])):
            got = g[col].map(codes)
            missing = [d for d, v in zip(deps, got, strict=True) if not isinstance(v, str)]
            values[code] = "" if missing else _worst(list(got), order)
            if missing:
                unanswered("B_07.01", row, ref, code, missing)
        reasons = {v for v in g["ans_non_substitutability_reason"].map(NON_SUBST_REASON) if isinstance(v, str)}
        values["c0060"] = "" if not reasons else reasons.pop() if len(reasons) == 1 else "eba_ZZ:x965"
        if values["c0050"] in ("eba_ZZ:x959", "eba_ZZ:x960") and not values["c0060"]:
            unanswered("B_07.01", row, ref, "c0060", deps, " (required when the service is not substitutable or "
                                                          "highly complex to substitute)")
        pcode, ptype = identifier(providers[c["provider_id"]])
        b0701_rows.append({"c0010": ref, "c0020": pcode, "c0030": ptype,
                           "c0040": service, **values,
                           "c0070": audit.isoformat() if audit else "",
                           "c0100": max(g["criticality"].map(ICT_IMPACT), key=IMPACT_ORDER.index), "c0120": ""})
        sug = g[[c for c in g.columns if c.startswith("sug_")]].rename(columns=lambda x: x[4:])
        b0701_suggested.append({k: v for k, v in combine(sug).items() if k != "c0100"})
        findings += _contradictions(g, row, ref, providers[c["provider_id"]], spec, a)
    b0701 = pd.DataFrame(b0701_rows, columns=list(spec.templates["B_07.01"].columns))

    b9901 = _definitions(entity, spec, findings)
    templates = {"B_01.01": b0101, "B_01.02": b0102, **empty, "B_99.01": b9901, "B_02.01": b0201, "B_02.02": b0202, "B_03.01": b0301,
                 "B_03.02": b0302, "B_04.01": b0401, "B_05.01": b0501, "B_05.02": b0502, "B_06.01": b0601,
                 "B_07.01": b0701}
    templates = {k: templates[k] for k in spec.templates}  # the module's order
    templates = {k: v[list(spec.templates[k].columns)] for k, v in templates.items()}
    crit_rows = {"B_02.02": b0202_crit}
    suggested = {"B_06.01": pd.DataFrame(b0601_suggested, columns=["c0050", "c0060"]),
                 "B_07.01": pd.DataFrame(b0701_suggested, columns=["c0050", "c0060", "c0080", "c0090", "c0110",
                                                                   "c0120"])}
    reg = Register(templates, findings, crit_rows, reference_date, lei, base, unlinked, unknown_links, chain,
                   suggested=suggested, rates_used=sorted(fx_used), basis=entity.reporting_basis,
                   country=entity.country.upper())
    already = {(f.template, f.row, f.column) for f in findings if f.kind == "missing"}
    reg.findings += [f for f in validate_register(reg, spec) if (f.template, f.row, f.column) not in already]
    for f in reg.findings:  # a value the firm has not given yet may also be one an EBA existence rule requires
        f.rule = f.rule or (existence_rule(f.template, f.column) if f.kind == "missing" and f.column else "")
    return reg


def _definitions(entity: RegisterEntity, spec: RoiSpec, findings: list[Finding]) -> pd.DataFrame:
    """B_99.01: one row, the firm's own definition of each option (profile dora.definitions), else the
    register's stated derivation rule where it derives the option from the firm's data; no row when empty."""
    cols = list(spec.templates["B_99.01"].columns)
    for k in entity.definitions:
        if k not in cols:
            findings.append(Finding(template="B_99.01", row=1, column=k, kind="invalid",
                                    message=f"the profile's dora.definitions names {k!r}, not a column of B_99.01 "
                                            f"(allowed: {cols[0]} to {cols[-1]})"))
    row = {k: (entity.definitions.get(k) or spec.definitions.get(k, "")).strip() for k in cols}
    return pd.DataFrame([row] if any(row.values()) else [], columns=cols)


def _contradictions(g: pd.DataFrame, row: int, ref: str, provider: dict, spec: RoiSpec, a: Assessment) -> list[Finding]:
    """Where two sources disagree (the firm's answers with each other, with the providers file, or with
    the tool's own fallback analysis): the filed cell keeps the firm's answer; the disagreement is a finding."""
    out = []
    cols = spec.templates["B_07.01"].columns

    def add(code: str, deps: list[str], message: str) -> None:
        if deps:
            out.append(Finding(template="B_07.01", row=row, key=ref, column=code, label=cols[code].label,
                               kind="contradiction", message=f"{_ids(deps)}: {message}"))

    no_plan = g["ans_exit_plan_exists"] == "none"
    add("c0080", list(g.loc[no_plan & (g["sug_c0080"] == YES), "deployment_id"]),
        "answered that no exit plan exists, yet the tool's fallback analysis drafts a feasible exit "
        f"({'; '.join(dict.fromkeys(x for x in g.loc[no_plan, 'sug_c0120'] if x)) or 'see Fallbacks'}); "
        "filed: No. Write and approve the exit plan, then answer 'Documented' — or record why it cannot be used")
    add("c0080", list(g.loc[no_plan & g["ans_exit_last_tested"].notna(), "deployment_id"]),
        "answered that no exit plan exists, yet an exit or failover test date is answered; correct one of the two")
    no_alt = g["ans_alternative_providers_identified"] == "no"
    add("c0110", list(g.loc[no_alt & (g["sug_c0110"] == YES), "deployment_id"]),
        "answered that no alternative provider is identified, yet the tool's fallback analysis finds a feasible one "
        f"({'; '.join(dict.fromkeys(x for x in g.loc[no_alt, 'sug_c0120'] if x))}); filed: No. Assess it and "
        "answer again")
    add("c0110", list(g.loc[no_alt & g["ans_substitutability"].isin(["easy", "medium"]), "deployment_id"]),
        "answered 'easily' or 'medium' substitutable but with no alternative provider identified; a substitution "
        "needs an alternative: correct one of the two answers")
    designated = g["ans_critical_ict_provider"]
    said = "designated" if provider["designated_critical"] else "not_designated"
    add("c0020", list(g.loc[designated.isin(["designated", "not_designated"]) & (designated != said), "deployment_id"]),
        f"the answer on CTPP designation disagrees with the providers file, which marks {provider['name']} as "
        f"{'' if provider['designated_critical'] else 'not '}a designated critical ICT third-party provider")
    return out
