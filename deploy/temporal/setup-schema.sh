#!/bin/sh
# Creates Temporal's two databases when missing and brings their schemas to the version of this
# admin-tools image. Safe to run again: that is also how a Temporal upgrade gets its schema.
set -eu
schemas=/etc/temporal/schema/postgresql/v12
for db in "$DBNAME" "$VISIBILITY_DBNAME"; do
  if [ "$db" = "$VISIBILITY_DBNAME" ]; then dir=visibility; else dir=temporal; fi
  temporal-sql-tool --db "$db" create 2>/dev/null || echo "database $db exists"
  temporal-sql-tool --db "$db" setup-schema -v 0.0 2>/dev/null || echo "schema of $db is versioned"
  temporal-sql-tool --db "$db" update-schema -d "$schemas/$dir/versioned"
done
