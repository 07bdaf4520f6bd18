#!/usr/bin/env bash
# Writes the development secrets the services refuse to start without into .local/dev.env,
# generating each one that is missing (existing values are kept, so tokens stay valid).
# Never used for production: there, every secret comes from the deployment's secret store.
set -euo pipefail
cd "$(dirname "$0")/../.."
file=.local/dev.env
mkdir -p .local
touch "$file"
chmod 600 "$file"

hex32() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
b64key() { python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'; }

ensure() {
  local name=$1 value
  grep -q "^${name}=" "$file" && return 0
  value=$($2)
  echo "${name}=${value}" >> "$file"
}

ensure CRM_JWT_SECRET hex32
ensure CRM_SUPPORT_SURVEY_SECRET hex32
ensure CRM_MARKETING_TRACKING_SECRET hex32
ensure CRM_SOCIAL_CREDENTIALS_KEY b64key
ensure CRM_KEYS_MASTER_KEY b64key
