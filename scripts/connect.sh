#!/bin/sh
# Connect to a dbtunnel stack's private database: a thin wrapper over `dbtunnel connect`.
#
# It replaces the old blog-post procedure (aws ssm start-session + session-manager-plugin, a hand-made
# `aws rds generate-db-auth-token` for the wrong host, psql with sslmode=require): dbtunnel opens the
# Session Manager port forward natively, starts the jump host if it was auto-stopped, signs the IAM token
# for the real endpoint and connects with sslmode=verify-full.
#
#   scripts/connect.sh --outputs outputs.json                 # psql
#   scripts/connect.sh --stack dev --user app_ro --listen      # for GUI clients
#   DBTUNNEL_OUTPUTS=outputs.json scripts/connect.sh --exec -- pg_dump --schema-only
#
# Every option of `dbtunnel connect --help` works here. DBTUNNEL_OUTPUTS, when set, is passed as --outputs.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
dbtunnel="$here/../bin/dbtunnel"
if [ -n "${DBTUNNEL_OUTPUTS:-}" ]; then
  exec "$dbtunnel" connect --outputs "$DBTUNNEL_OUTPUTS" "$@"
fi
exec "$dbtunnel" connect "$@"
