#!/bin/sh
# Fresh secrets for docker-compose.yml, written to .env beside it (or to the path given), which
# compose reads:  deploy/new-env.sh && docker compose up --build
# It refuses to replace an existing file: a new PAYLOAD_ENCRYPTION_KEY would leave what the old
# one sealed unreadable, and new passwords would not match an initialised database volume.
# deploy/example.env names the same variables with published values, which production refuses.
set -eu
umask 077  # the file holds secrets: readable by its owner only

target=${1:-"$(dirname "$0")/../.env"}
if [ -e "$target" ]; then
  echo "$target exists: keep it, or move it away first" >&2
  exit 1
fi

# Random bytes in base64, on one line.
random() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
# Passwords end up in URLs: letters and digits only.
password() { random 30 | tr -d '/+='; }

{
  echo "POSTGRES_PASSWORD=$(password)"
  echo "TEMPORAL_DB_PASSWORD=$(password)"
  echo "NOTIFICATIONS_DB_PASSWORD=$(password)"
  echo "AUTH_JWT_SECRET=$(random 48)"
  echo "DELIVERY_REPORT_SECRET=whsec_$(random 32)"
  echo "PAYLOAD_ENCRYPTION_KEY=k1:$(random 32)"
} > "$target"
echo "wrote $target"
