"""Session state and cached engine calls shared by the pages (presentation only: every number
comes from risk_models).

The pages use `from dashboard import state; state.X(...)`: this package re-exports what they and
the tests call. The modules are layered, each importing only those below it (checked by
import-linter, pyproject.toml), top to bottom:

- reports (report downloads, export names) | saved (reopening a saved assessment)
- assessment (cached assessment, what-if) | editing (Inventory editors) | reviews (last review dates)
- persist (the workspace in the database: parts synced on every run, workspaces listed and started)
- answers (questionnaire answers, probabilities, team-mode sharing)
- workspace (inventory register, versions, uploads, undo, the demo)
- library (configuration, scenario pack, profile and assumptions)
- audit (team mode's audit trail of session edits)
- auth (sign-in, roles)
- storage (the database engine)
- session (the session object and the names of its entries, constants, cache keys)

Pages and components read and write the browser session's state only through
`state.current_session()` and the typed keys of dashboard/state/session.py, never st.session_state.
"""

from dashboard.state.answers import (
    answer_conflicts,
    answers,
    own_answers,
    probabilities,
    resolved,
    scoped_answers,
    set_answers,
    set_probabilities,
    set_scoped_answers,
    sync_shared_answers,
)
from dashboard.state.assessment import (
    _assessment,
    assessment,
    assessment_key,
    changed_probabilities,
    loss_breakdown,
    pack_effect,
    sensitivity_result,
    show_probability_banner,
    warm_demo,
    whatif_result,
)
from dashboard.state.audit import AUDIT_ROWS_MAX
from dashboard.state.editing import (
    ERROR_COLUMN_LABELS,
    ERROR_HEADERS,
    apply_edits,
    errors_frame,
    plausibility,
    rejected_raw,
)
from dashboard.state.library import (
    _library_for,
    base_library,
    library,
    pack_key,
    pack_status,
    read_pack,
    set_assumptions,
    set_profile,
    settings_key,
    show_pack_age_banner,
    use_pack,
)
from dashboard.state.persist import (
    actor_name,
    archive,
    copy,
    notices,
    open_demo,
    open_workspace,
    os_user_name,
    provider_files,
    rename,
    save,
    set_provider_files,
    start_workspace,
    suggested_name,
    sync,
    workspace_is_demo,
    workspace_name,
    workspaces,
)
from dashboard.state.reports import (
    EXPORT_FAILURES,
    _guarded,
    download_name,
    export_failures,
    report_download,
    saved_context,
)
from dashboard.state.saved import open_saved, reopen_changes, workspace_extras
from dashboard.state.session import (
    DEMO_DIR,
    DEMO_NAME,
    LINE,
    MAX_UPLOAD_MB,
    SEED,
    TRIALS,
    UNDO_DEPTH,
    current_session,
)
from dashboard.state.storage import problem_text, storage
from dashboard.state.workspace import (
    DemoInputs,
    archived_answers,
    cancel_upload,
    confirm_upload,
    demo_inputs,
    ensure_loaded,
    inventory,
    is_demo,
    load_upload,
    org_name,
    pending_upload,
    read_upload,
    register_info,
    register_versions,
    reset_to_demo,
    restore_archived,
    set_raw,
    stage_upload,
    undo,
)

# _library_for, _assessment and _guarded are private: re-exported for the warm-up and export tests
# (tests/test_app_warmup.py, tests/test_hardening_app.py), which reach into the caches
__all__ = [
    # session
    "DEMO_DIR", "DEMO_NAME", "LINE", "MAX_UPLOAD_MB", "SEED", "TRIALS", "UNDO_DEPTH", "current_session",
    # storage
    "problem_text", "storage",
    # audit
    "AUDIT_ROWS_MAX",
    # persist (the workspace in the database)
    "actor_name", "archive", "copy", "notices", "open_demo", "open_workspace", "os_user_name", "provider_files", "rename", "save",
    "set_provider_files", "start_workspace", "suggested_name", "sync", "workspace_is_demo", "workspace_name",
    "workspaces",
    # library
    "_library_for", "base_library", "library", "pack_key", "pack_status", "read_pack", "set_assumptions",
    "set_profile", "settings_key", "show_pack_age_banner", "use_pack",
    # workspace
    "DemoInputs", "archived_answers", "cancel_upload", "confirm_upload", "demo_inputs", "ensure_loaded", "inventory",
    "is_demo", "load_upload", "org_name", "pending_upload", "read_upload", "register_info", "register_versions",
    "reset_to_demo", "restore_archived", "set_raw", "stage_upload", "undo",
    # answers
    "answer_conflicts", "answers", "own_answers", "probabilities", "resolved", "scoped_answers", "set_answers",
    "set_probabilities", "set_scoped_answers", "sync_shared_answers",
    # editing
    "ERROR_COLUMN_LABELS", "ERROR_HEADERS", "apply_edits", "errors_frame", "plausibility", "rejected_raw",
    # assessment
    "_assessment", "assessment", "assessment_key", "changed_probabilities", "loss_breakdown", "pack_effect",
    "sensitivity_result", "show_probability_banner", "warm_demo", "whatif_result",
    # reports
    "EXPORT_FAILURES", "_guarded", "download_name", "export_failures", "report_download", "saved_context",
    # saved
    "open_saved", "reopen_changes", "workspace_extras",
]
