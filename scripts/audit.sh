#!/usr/bin/env bash
# Check the pinned dependency versions (requirements.lock) against the advisory databases.
# pip-audit needs the network (PyPI's vulnerability API or OSV); without it, say so plainly
# instead of reporting a clean audit that never happened.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pip install --quiet pip-audit >/dev/null 2>&1 || {
  echo "audit: pip-audit could not be installed: NOT CHECKED"; exit 2; }
out=$("$PY" -m pip_audit --requirement requirements.lock --no-deps --disable-pip \
      --progress-spinner off 2>&1)
status=$?
if [ $status -ne 0 ] && grep -qiE "connection|resolve|network|timed out|unreachable|HTTPSConnection|Max retries" <<<"$out"; then
  echo "audit: the advisory database cannot be reached from this machine (no network):"
  echo "       the $(grep -c '==' requirements.lock) pinned versions in requirements.lock were NOT checked."
  exit 2
fi
total=$(grep -c '==' requirements.lock)
skipped=$(grep -c "could not be audited" <<<"$out")
if [ "$skipped" -ge "$total" ]; then
  # A registry mirror answers but holds no advisories: "No known vulnerabilities" would be
  # about nothing.
  echo "audit: none of the $total pinned versions could be looked up in an advisory database"
  echo "       (the package index here has no vulnerability data): NOT CHECKED."
  exit 2
fi
echo "$out"
[ "$skipped" -gt 0 ] && echo "audit: $skipped of $total pinned versions could not be checked (listed above)."
exit $status
