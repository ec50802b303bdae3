#!/usr/bin/env bash
# Start the real components the suite uses that need root and outlive one pytest session.
# Everything else (keyring, OCI registry) is started by session fixtures in tests/conftest.py.
set -u
if command -v docker >/dev/null && ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null; then
    echo "starting dockerd (log: /tmp/skillstudio-dockerd.log)"
    nohup dockerd >/tmp/skillstudio-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || echo "dockerd did not come up; Docker tests will be skipped (or fail in CI)"
  else
    echo "Docker engine not running and cannot be started here; Docker tests will be skipped (or fail in CI)"
  fi
fi
exit 0
