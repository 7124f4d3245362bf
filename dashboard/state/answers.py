"""The session's questionnaire answers (own, and inherited from provider and model-vendor scopes)
and scenario probabilities; in team mode, answers shared between users and app processes."""

from __future__ import annotations

from dashboard.state import auth
from dashboard.state.audit import _team_mode, audit_change
from dashboard.state.library import library
from dashboard.state.session import (
    ANSWER_CONFLICTS,
    ANSWER_VERSIONS,
    ANSWERS,
    PROBABILITIES,
    SCOPED_ANSWERS,
    current_session,
)
from dashboard.state.storage import storage
from dashboard.state.workspace import ensure_loaded, inventory
from risk_models.questionnaire.answers import AnswerMap, answers_to_jsonable, validate_answers
from risk_models.questionnaire.scoped import ScopedAnswers, resolve_answers


def own_answers() -> AnswerMap:
    """Answers given for each deployment itself (what the questionnaire form edits)."""
    ensure_loaded()
    return current_session()[ANSWERS]


def scoped_answers() -> ScopedAnswers:
    ensure_loaded()
    return current_session().setdefault(SCOPED_ANSWERS, ScopedAnswers())


def set_scoped_answers(new: ScopedAnswers) -> None:
    current_session()[SCOPED_ANSWERS] = new


def resolved() -> tuple[AnswerMap, dict[str, dict[str, str]]]:
    """Effective answers (own answers over provider and model-vendor answers) and their sources."""
    return resolve_answers(inventory().frame, scoped_answers(), own_answers())


def answers() -> AnswerMap:
    """The effective answers the engine scores (own answers win over inherited ones)."""
    ensure_loaded()
    sc = scoped_answers()
    if not (sc.channel or sc.model_vendor):
        return current_session()[ANSWERS]
    return resolved()[0]


def set_answers(new: AnswerMap) -> None:
    ss = current_session()
    if _team_mode():
        new = _share_answers(ss.get(ANSWERS, {}), new)
    ss[ANSWERS] = new


# --- team mode: answers shared between users and app processes ----------------------------------
def _share_answers(old: AnswerMap, new: AnswerMap) -> AnswerMap:
    """Store each deployment whose answers changed, checked against the version this session last
    saw; when another user saved in between, their answers stay and the user is told (no silent
    overwrite either way)."""
    from risk_models.storage.team import AnswerConflict, save_answers
    versions = current_session().setdefault(ANSWER_VERSIONS, {})
    merged = dict(new)
    for dep in sorted(old.keys() | new.keys()):
        if old.get(dep) == new.get(dep):
            continue
        raw = answers_to_jsonable({dep: new.get(dep, {})}).get(dep, {})
        try:
            rec = save_answers(storage(), auth.actor(), dep, raw, versions.get(dep, 0))
        except AnswerConflict as exc:
            theirs, _ = validate_answers({dep: exc.current.answers}, library().questions)
            merged[dep] = theirs.get(dep, {})
            versions[dep] = exc.current.version
            current_session().setdefault(ANSWER_CONFLICTS, []).append(
                f"{exc}. Their answers where they differ from yours: "
                + _answer_differences(raw, exc.current.answers) + ".")
        else:
            versions[dep] = rec.version
    return merged


def _answer_text(q, value) -> str:
    """An answer as people read it: option labels, Yes/No, "not answered" (never raw ids)."""
    if value is None or value == []:
        return "not answered"
    labels = {o.value: o.label for o in q.options} if q is not None else {}
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def _answer_differences(mine: dict, theirs: dict) -> str:
    questions = library().questions
    diffs = [f"{questions[q].text if q in questions else q} → {_answer_text(questions.get(q), theirs.get(q))}"
             for q in sorted(mine.keys() | theirs.keys()) if mine.get(q) != theirs.get(q)]
    return "; ".join(diffs) or "none (the same values)"


def sync_shared_answers() -> None:
    """Team mode, every run: answers another user or app process saved replace this session's
    (a change saved in one process is seen in the other on rerun)."""
    from risk_models.storage.team import shared_answers
    ensure_loaded()
    ss = current_session()
    versions = ss.setdefault(ANSWER_VERSIONS, {})
    deps = set(inventory().frame["deployment_id"])
    fresh = {dep: rec for dep, rec in shared_answers(storage()).items()
             if dep in deps and rec.version != versions.get(dep)}
    if not fresh:
        return
    valid, _ = validate_answers({dep: rec.answers for dep, rec in fresh.items()}, library().questions)
    answers = dict(ss[ANSWERS])
    for dep, rec in fresh.items():
        answers[dep] = valid.get(dep, {})
        versions[dep] = rec.version
    ss[ANSWERS] = answers


def answer_conflicts() -> list[str]:
    return current_session().pop(ANSWER_CONFLICTS, [])


def set_probabilities(new: dict[str, float]) -> None:
    """Scenario probabilities changed from the library defaults ({} = all defaults)."""
    ss = current_session()
    if _team_mode():
        from risk_models.auth.roles import Permission
        old = ss.get(PROBABILITIES, {})
        for outcome in sorted(old.keys() | new.keys()):
            if old.get(outcome) != new.get(outcome):
                audit_change("scenario_probability", outcome, old.get(outcome, "default"),
                             new.get(outcome, "default"), Permission.edit_scenarios)
    ss[PROBABILITIES] = new


def probabilities() -> dict[str, float]:
    ensure_loaded()
    return current_session()[PROBABILITIES]
