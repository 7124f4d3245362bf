"""Uploading an inventory in AppTest as a user does: over the demo, the first upload asks for the
organisation's name and starts a workspace of its own (the suggested name is kept)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def upload_inventory(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="inventory_upload").upload(name, data, mime).run()
    assert not at.exception, at.exception
    if any(b.key == "new_workspace_create" for b in at.button):
        at.button(key="new_workspace_create").click().run()
        assert not at.exception, at.exception
    return at
