"""Run by the focus-validator venv (.venv-focus): validate FOCUS files with the FinOps Foundation's
focus-validator and print one JSON line per file: {"file", "failed": [check names], "errors": [...]}.

focus-validator 1.0.0 reads its currency list from a path relative to its own package directory, so
this script is started with that directory as the working directory (see tests/test_discovery.py).
"""

import json
import sys

from focus_validator.data_loaders.data_loader import DataLoader
from focus_validator.rules.spec_rules import SpecRules
from focus_validator.validator import DEFAULT_VERSION_SETS_PATH

override = sys.argv[1] or None
for path in sys.argv[2:]:
    rules = SpecRules(override_filename=override, rule_set_path=DEFAULT_VERSION_SETS_PATH, rules_version="1.0",
                      column_namespace=None)
    rules.load()
    result = rules.validate(DataLoader(data_filename=path).load())
    failed = sorted(k for k, v in result.checklist.items() if v.status.value in ("failed", "errored"))
    skipped = sorted(k for k, v in result.checklist.items() if v.status.value == "skipped")
    errors = [str(v.error) for v in result.checklist.values() if v.error]
    print(json.dumps({"file": path, "failed": failed, "errors": errors, "skipped": skipped,
                      "checks": len(result.checklist)}))
