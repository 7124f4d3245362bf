"""HMAC signatures for exported assessments, keyed by a per-installation secret.

A plain SHA-256 of the content can be recomputed by whoever edits the file; an HMAC cannot without
the secret. The secret comes from AI_VENDOR_RISK_EXPORT_KEY (teams sharing exports configure the same
value) or from a file created once in the data directory, readable by its owner only."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from risk_models.io.atomic import write_atomic
from risk_models.storage.db import StorageError, data_dir

ENV_KEY = "AI_VENDOR_RISK_EXPORT_KEY"
KEY_FILE = "export-signing.key"
ALGORITHM = "HMAC-SHA256"
MIN_KEY_BYTES = 32  # 256 bits, the HMAC-SHA256 block of security; a shorter (or empty) key is refused


class SigningKeyError(StorageError):
    """The signing key is missing, too short or unreadable: nothing is signed or verified with it."""


def _checked(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise SigningKeyError(
            f"the export signing key {where} is {len(key)} bytes; at least {MIN_KEY_BYTES} are needed "
            f"(an empty or short key lets anyone forge a signed export). Replace it: see docs/security.md, "
            "'Rotating the export key'")
    return key


def signing_key() -> bytes:
    """The installation's secret (created on first use, whole or not at all)."""
    configured = os.environ.get(ENV_KEY)
    if configured is not None:
        return _checked(configured.encode(), f"in {ENV_KEY}")
    path = data_dir() / KEY_FILE
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # temp file + fsync + link: a full disk or a crash never leaves an empty key file behind, and
            # two first uses create one key (the second one's link fails and it reads the first one's)
            with contextlib.suppress(FileExistsError):
                write_atomic(path, secrets.token_hex(32).encode(), private=True, exclusive=True)
        return _checked(path.read_bytes().strip(), str(path))
    except OSError as exc:
        raise SigningKeyError(f"cannot read or create the export signing key {path}: {exc.strerror or exc} "
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
