#!/bin/sh
# Registers the service's namespace (with its retention) and the search attributes of
# workflows/search_attributes.py, once the server answers. Safe to run again.
set -eu

# retry N COMMAND...: run COMMAND until it succeeds, at most N times, two seconds apart.
retry() {
  tries=$1; shift
  until "$@"; do
    tries=$((tries - 1))
    if [ "$tries" -le 0 ]; then echo "gave up on: $*" >&2; return 1; fi
    sleep 2
  done
}

retry 60 temporal operator cluster health >/dev/null
if ! temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION"
fi
# A new namespace reaches the server's namespace cache some seconds after it is created.
retry 30 temporal operator namespace update --namespace "$TEMPORAL_NAMESPACE" \
  --retention "$NAMESPACE_RETENTION"
existing=$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE")
for name in ShipmentId ShipmentStatus NotificationChannel Creator SendersReference Provider; do
  case "$existing" in
    *"$name"*) echo "search attribute $name exists" ;;
    *) temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
         --name "$name" --type Keyword ;;
  esac
done
echo "namespace $TEMPORAL_NAMESPACE is ready at $TEMPORAL_ADDRESS"
