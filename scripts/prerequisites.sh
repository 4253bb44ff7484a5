#!/bin/sh
# Installs what lifeboat and its lab need on a Debian 12 machine, and nothing that is
# already there: the npm packages (from package-lock.json) and the Debian packages that the
# lab's hosts run. Safe to run again; fast when everything is present.
set -eu
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES="openssh-server openssh-client mariadb-server mariadb-client mariadb-backup
redis-server redis-tools nginx-light supervisor bind9 bind9-dnsutils rsync iproute2 nftables
tini util-linux procps psmisc zstd curl openssl prometheus haproxy
mha4mysql-manager mha4mysql-node redis-sentinel tcpdump chromium fonts-dejavu-core pebble"

missing=""
for p in $DEBIAN_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "lifeboat: these Debian packages are missing and installing them needs root:$missing" >&2
    exit 2
  fi
  echo "lifeboat: installing Debian packages:$missing"
  # Debian starts a daemon as soon as its package is installed; the lab's daemons must run
  # only inside lab hosts, never in this machine's root namespace (LAB-NOTES: traps).
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "lifeboat: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
