"""Model name -> task kind and modality (config/models.yaml `tasks`), once per distinct name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_models.config.loader import Library

TASK_LABELS = {"chat": "chat/completion", "embedding": "embedding", "rerank": "rerank",
               "image_generation": "image generation", "video_generation": "video generation",
               "speech_to_text": "speech-to-text", "text_to_speech": "text-to-speech", "moderation": "moderation"}


def task_kinds(models: pd.Series, lib: Library) -> pd.Series:
    """The task kind of every model name (chat, embedding, ...)."""
    codes, uniq = pd.factorize(models.astype(str))
    kinds = np.array([lib.models.task_rule(m).task for m in uniq] or ["chat"], dtype=object)
    return pd.Series(kinds[codes] if len(uniq) else [], index=models.index, dtype=object)


def inputs_of(lib: Library, model: str) -> frozenset[str]:
    """What the model takes in (text, image, audio, video)."""
    return frozenset(lib.models.task_rule(model).inputs)
