#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when missing, so CI on a
# clean machine sets itself up and a developer machine is left alone.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
[ -e /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf ] || need+=(fonts-symbola)  # emoji in the PDF
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v node >/dev/null 2>&1 || need+=(nodejs)  # the local OpenID Provider of the team-mode tests
command -v npm >/dev/null 2>&1 || need+=(npm)

# the test OpenID Provider's packages, exactly as pinned in its lock file (after any apt install below)
oidc_deps() {
  local dir
  dir="$(dirname "$0")/../tests/oidc"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "installing the test OpenID Provider (npm ci in tests/oidc)"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
}
trap oidc_deps EXIT

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (run as root or install them: apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
