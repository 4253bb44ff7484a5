/**
 * How a lab host starts, stops and asks about MariaDB, Redis and nginx, as `command` service
 * drivers for the fleet file (`database.driver`, `redis.driver`, `nginx.driver`). Lab hosts
 * have no systemd: their servers run as `setsid -f` foreground daemons under the host's
 * tini, with the same pid files and logs as src/lab/servers/*.ts. With these drivers in the
 * derived fleet, lifeboat's provisioning runs unchanged on a lab spare.
 */
import type { DriverSpec } from '../fleet/schema.ts';
import { pidAlive } from './servers/context.ts';

type CommandDriver = Extract<DriverSpec, { type: 'command' }>;

export interface LabServerDrivers {
  database: CommandDriver;
  redis: CommandDriver;
  nginx: CommandDriver;
}

/** Stops the process in `pidFile` with `signal` and waits (bounded) until it is gone. */
function stopByPidFile(pidFile: string, signal: 'TERM' | 'QUIT', waitS: number): string {
  const tries = waitS * 10;
  return `p=$(cat ${pidFile} 2>/dev/null) && [ -n "$p" ] || exit 0; kill -${signal} "$p" 2>/dev/null || exit 0; ` +
    `i=0; while kill -0 "$p" 2>/dev/null; do i=$((i+1)); [ $i -ge ${tries} ] && exit 1; sleep 0.1; done`;
}

/** Starts only when not running, so a repeated start never leaves a second daemon behind. */
function startUnlessRunning(pidFile: string, start: string): string {
  return `if ${pidAlive(pidFile)}; then exit 0; fi; ${start}`;
}

export function labServerDrivers(): LabServerDrivers {
  const mysqlPid = '/run/mysqld/mysqld.pid';
  const redisPid = '/run/redis/redis-server.pid';
  const nginxPid = '/run/nginx.pid';
  return {
    database: {
      type: 'command',
      start: startUnlessRunning(
        mysqlPid,
        `rm -f ${mysqlPid} /run/mysqld/mysqld.sock; install -d -o mysql -g mysql /run/mysqld /var/log/mysql; ` +
          'setsid -f /usr/sbin/mariadbd --user=mysql >>/var/log/mysql/mariadbd.log 2>&1 </dev/null',
      ),
      stop: stopByPidFile(mysqlPid, 'TERM', 120),
      status: pidAlive(mysqlPid),
    },
    redis: {
      type: 'command',
      start: startUnlessRunning(
        redisPid,
        `rm -f ${redisPid}; install -d -o redis -g redis /run/redis /var/log/redis; ` +
          'setsid -f setpriv --reuid=redis --regid=redis --clear-groups /usr/bin/redis-server /etc/redis/redis.conf >>/var/log/redis/stdout.log 2>&1 </dev/null',
      ),
      stop: stopByPidFile(redisPid, 'TERM', 30),
      status: pidAlive(redisPid),
    },
    nginx: {
      type: 'command',
      start: startUnlessRunning(
        nginxPid,
        `rm -f ${nginxPid}; mkdir -p /var/log/nginx; setsid -f nginx -g 'daemon off;' >>/var/log/nginx/stdout.log 2>&1 </dev/null`,
      ),
      stop: stopByPidFile(nginxPid, 'QUIT', 30),
      status: pidAlive(nginxPid),
    },
  };
}
