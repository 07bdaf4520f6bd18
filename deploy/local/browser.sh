#!/usr/bin/env bash
# The headless browser of the dashboard test: Debian's chromium (driven by Playwright with
# executable_path, never a downloaded browser) and CJK fonts so Chinese names render.
# Installs what is missing from Debian's apt (needs root); a missing browser fails the run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
  [[ $EUID == 0 ]] || die "browser: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
  log "installing ${missing[*]} from Debian's apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
/usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1 || die "browser: /usr/bin/chromium does not start"
summary chromium ready "/usr/bin/chromium" "$(/usr/bin/chromium --version 2>/dev/null | head -1)"
