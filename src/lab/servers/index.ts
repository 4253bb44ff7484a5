/** Every kind of server the lab runs, in start order (DNS first, then the databases…). */
import { bind } from './bind.ts';
import type { LabServer } from './context.ts';
import { mariadb } from './mariadb.ts';
import { nginx } from './nginx.ts';
import { redis } from './redis.ts';
import { sshd } from './sshd.ts';
import { supervisor } from './supervisor.ts';

export const SERVERS = [bind, sshd, mariadb, redis, supervisor, nginx] as const satisfies readonly LabServer[];
export type ServerName = (typeof SERVERS)[number]['name'];
