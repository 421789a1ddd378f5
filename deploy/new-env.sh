#!/bin/sh
# Fresh secrets for docker-compose.yml, which reads .env beside it:
#   deploy/new-env.sh > .env && docker compose up --build
# deploy/example.env names the same variables with published values, which production refuses.
set -eu

# Random bytes in base64, on one line.
random() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
# Passwords end up in URLs: letters and digits only.
password() { random 30 | tr -d '/+='; }

echo "POSTGRES_PASSWORD=$(password)"
echo "TEMPORAL_DB_PASSWORD=$(password)"
echo "NOTIFICATIONS_DB_PASSWORD=$(password)"
echo "AUTH_JWT_SECRET=$(random 48)"
echo "DELIVERY_REPORT_SECRET=whsec_$(random 32)"
echo "PAYLOAD_ENCRYPTION_KEY=k1:$(random 32)"
