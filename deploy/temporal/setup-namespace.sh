#!/bin/sh
# Registers the service's namespace (with its retention) and the search attributes of
# workflows/search_attributes.py, once the server answers. Safe to run again.
set -eu
attempts=0
until temporal operator cluster health >/dev/null 2>&1; do
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 60 ]; then echo "Temporal at $TEMPORAL_ADDRESS did not answer" >&2; exit 1; fi
  sleep 2
done
if ! temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION"
fi
temporal operator namespace update --namespace "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION"
existing=$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE")
for name in ShipmentId ShipmentStatus NotificationChannel Creator SendersReference; do
  case "$existing" in
    *"$name"*) echo "search attribute $name exists" ;;
    *) temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
         --name "$name" --type Keyword ;;
  esac
done
