"""HMAC signatures for exported assessments, keyed by a per-installation secret.

A plain SHA-256 of the content can be recomputed by whoever edits the file; an HMAC cannot without
the secret. The secret comes from AI_VENDOR_RISK_EXPORT_KEY (teams sharing exports configure the same
value) or from a file created once in the data directory, readable by its owner only."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from risk_models.storage.db import StorageError, data_dir

ENV_KEY = "AI_VENDOR_RISK_EXPORT_KEY"
KEY_FILE = "export-signing.key"
ALGORITHM = "HMAC-SHA256"


def signing_key() -> bytes:
    """The installation's secret (created on first use)."""
    configured = os.environ.get(ENV_KEY)
    if configured:
        return configured.encode()
    path = data_dir() / KEY_FILE
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # O_EXCL: two first uses, one key
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return Path(path).read_text().strip().encode()
    except FileExistsError:
        return Path(path).read_text().strip().encode()
    except OSError as exc:
        raise StorageError(f"cannot read or create the export signing key {path}: {exc.strerror or exc} "
                           f"(or set {ENV_KEY})") from None


def key_id(key: bytes) -> str:
    """Public fingerprint of the key: tells 'another installation' apart from 'changed'."""
    return hashlib.sha256(b"key-id:" + key).hexdigest()[:16]


def _canonical(doc: dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sign(doc: dict[str, Any]) -> dict[str, Any]:
    key = signing_key()
    mac = hmac.new(key, _canonical(doc), hashlib.sha256).hexdigest()
    return {**doc, "signature": {"algorithm": ALGORITHM, "key_id": key_id(key), "value": mac}}


def verify(doc: dict[str, Any]) -> str | None:
    """None when signed by this installation and unchanged; otherwise the problem in words."""
    sig = doc.get("signature")
    if not isinstance(sig, dict) or not sig.get("value"):
        return "the export is unsigned"
    key = signing_key()
    if sig.get("algorithm") != ALGORITHM or sig.get("key_id") != key_id(key):
        return "the export is signed by another installation"
    expected = hmac.new(key, _canonical(doc), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(sig["value"])):
        return "the export's signature does not match its content: it was changed after export"
    return None
