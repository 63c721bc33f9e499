#!/usr/bin/env bash
# Audit the runtime dependencies (requirements.txt) for known vulnerabilities with pip-audit, run
# from a throwaway virtualenv so that the project's own environment is left alone.
#
#   scripts/audit-dependencies.sh            exit 0: no known vulnerability, or the audit could not run
#                                            exit 1: a vulnerability was found (listed)
#                                            exit 2: pip-audit itself failed for another reason
#
# When the vulnerability service cannot be reached (an offline or firewalled machine), pip-audit
# does not fail: it marks every dependency "not found on PyPI and could not be audited" and exits
# 0, which reads like a clean bill. This script says instead "audit could not run: <reason>" and
# exits 0, so that CI on such a machine is not blocked, and nobody mistakes it for a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_AUDIT_VERSION="2.10.1"
REQUIREMENTS="${1:-requirements.txt}"
PYTHON="${PYTHON_FOR_AUDIT:-python3}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m venv "$work/venv"
if ! "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pip-audit==$PIP_AUDIT_VERSION" >"$work/install.log" 2>&1; then
  echo "audit could not run: pip-audit $PIP_AUDIT_VERSION could not be installed ($(tail -n 1 "$work/install.log"))"
  exit 0
fi

set +e
"$work/venv/bin/pip-audit" --requirement "$REQUIREMENTS" --progress-spinner off \
  --format json --output "$work/report.json" 2>"$work/stderr.log"
status=$?
set -e

"$work/venv/bin/python" - "$work/report.json" "$work/stderr.log" "$status" <<'PY'
import json
import re
import sys
from pathlib import Path

report_path, stderr_path, status = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
stderr = stderr_path.read_text(errors="replace").strip()
UNREACHABLE = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|Max retries exceeded|Name or service not known|"
    r"Temporary failure in name resolution|Network is unreachable|Connection refused|SSLError",
    re.IGNORECASE,
)

if not report_path.exists() or not report_path.read_text().strip():
    last_line = stderr.splitlines()[-1] if stderr else f"pip-audit exited with {status}"
    if UNREACHABLE.search(stderr):
        print(f"audit could not run: the vulnerability service is unreachable ({last_line})")
        sys.exit(0)
    print(f"pip-audit failed: {last_line}", file=sys.stderr)
    sys.exit(2)

dependencies = json.loads(report_path.read_text())["dependencies"]
vulnerable = [dep for dep in dependencies if dep.get("vulns")]
skipped = [dep for dep in dependencies if dep.get("skip_reason")]
audited = len(dependencies) - len(skipped)

for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixed})")
if vulnerable:
    print(f"{len(vulnerable)} of {len(dependencies)} dependencies have known vulnerabilities.")
    sys.exit(1)

if dependencies and audited == 0:
    reason = skipped[0]["skip_reason"]
    print(
        f"audit could not run: none of the {len(dependencies)} dependencies could be checked, "
        f"the vulnerability service did not answer for them (first: {reason})"
    )
    sys.exit(0)

if skipped:
    print(f"warning: {len(skipped)} dependencies could not be checked:")
    for dep in skipped:
        print(f"  {dep['name']}: {dep['skip_reason']}")
print(f"No known vulnerabilities in {audited} audited dependencies of {len(dependencies)}.")
sys.exit(0 if status in (0, 1) else 2)
PY
