"""Constants and cache keys shared by the state modules (the lowest of them: imports no other).

Where the demo organisation lives, the simulation's trials and seed, the raw table's line column,
and the digests the cached engine calls are keyed on."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from risk_models.inventory.read import DEFAULT_MAX_BYTES
from risk_models.questionnaire.answers import AnswerMap, answers_to_jsonable

DEMO_DIR = Path(__file__).resolve().parents[2] / "config" / "demo"  # dashboard/state/ -> the repository
DEMO_NAME = "Demo organisation (Example Bank plc)"
MAX_UPLOAD_MB = DEFAULT_MAX_BYTES // (1024 * 1024)
TRIALS, SEED = 10_000, 0
UNDO_DEPTH = 20
LINE = "_source_line"  # original file line of each raw row (not a user column name)


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _assessment_key_of(inventory_key: str, answers: AnswerMap, probs: dict[str, float], pack: str,
                       settings: str) -> str:
    return "|".join([inventory_key, _digest(answers_to_jsonable(answers)), _digest(probs), pack, settings])
