#!/usr/bin/env bash
# Prints the path of Postfix for the tests, installing it from the OS packages where it is
# missing and this user may (root with apt-get). Its system service is neither configured nor
# started: the tests configure and start a private instance of their own on a free port.
# Prints nothing (and the Postfix tests are skipped, outside CI) where it cannot be had.
set -u
found() { command -v postfix 2>/dev/null || { [ -x /usr/sbin/postfix ] && echo /usr/sbin/postfix; }; }
if [ -z "$(found)" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends postfix; } >/dev/null 2>&1 || true
fi
found || true
