#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: one login role per client, so
# Temporal and the service never share credentials. The service's database belongs to its
# role; Temporal's two databases are created by its schema tool (the role may create them).
set -eu
psql --username "$POSTGRES_USER" --dbname postgres -v ON_ERROR_STOP=1 \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" \
  -v notifications_password="$NOTIFICATIONS_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE notifications LOGIN PASSWORD :'notifications_password';
CREATE DATABASE notifications OWNER notifications;
SQL
