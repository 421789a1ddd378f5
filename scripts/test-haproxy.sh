#!/usr/bin/env bash
# Prints the path of HAProxy for the TLS tests (tests/support/tls_terminator.py), installing
# Debian's package where it is missing and this runs as root. Prints nothing where it cannot be
# had (the TLS tests are then skipped, except in CI, where they fail).
set -u
found=$(PATH="$PATH:/usr/sbin" command -v haproxy)
if [ -z "$found" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null 2>&1
  found=$(PATH="$PATH:/usr/sbin" command -v haproxy)
fi
echo "$found"
