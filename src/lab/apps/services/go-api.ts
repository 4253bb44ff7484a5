/**
 * go-api stand-in: register, login (session token in Redis with a TTL) and a heartbeat that
 * records the user's FIRST event of the day in `user_logs` (INSERT IGNORE on the unique
 * (user_id, datestr) key, as the seed's table comment says).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { ServiceConfig } from '../config.ts';
import { check, createMysqlPool, createRedis, query } from '../clients.ts';
import { field, HttpError } from '../http.ts';
import type { RunningService, StartService } from '../service.ts';

type ApiConfig = Extract<ServiceConfig, { service: 'go-api' }>;
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number }) => Promise<Buffer>;
// Lab accounts guard nothing real: a cheap cost keeps register/login from being CPU-bound
// on a 2-core lab machine (the default N=16384 costs ~50 ms of CPU per call).
const SCRYPT = { N: 1024 };

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${salt.toString('hex')}$${key.toString('hex')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const actual = await scryptAsync(password, Buffer.from(salt, 'hex'), 32, SCRYPT);
  return timingSafeEqual(actual, Buffer.from(key, 'hex'));
}

/** The user's day in UTC, the `datestr` of `user_logs`. */
export const datestr = (d = new Date()): string => d.toISOString().slice(0, 10);

const MAX_EXPIRY_S = 10 * 365 * 86400;

export const startGoApi: StartService<ApiConfig> = async (config) => {
  const pool = createMysqlPool(config.mysql);
  const redis = createRedis(config.redis);
  const sessionKey = (token: string) => `session:${token}`;

  async function userOf(token: string): Promise<number> {
    const id = await redis.get(sessionKey(token));
    if (!id) throw new HttpError(401, 'NO_SESSION', 'unknown or expired token');
    return Number(id);
  }

  const running: RunningService = {
    routes: [
      {
        method: 'POST', path: '/api/register', handler: async (req) => {
          const body = await req.json();
          const username = field(body, 'username', 64);
          const password = field(body, 'password', 200);
          // Lets a test or drill create users go-job will expire; 30 days by default.
          const expiresIn = typeof body.expiresInSeconds === 'number'
            ? Math.max(0, Math.min(Math.floor(body.expiresInSeconds), MAX_EXPIRY_S)) : 30 * 86400;
          try {
            const result = await query<ResultSetHeader>(pool,
              'INSERT INTO users (username, password_hash, expires_at) VALUES (?, ?, NOW() + INTERVAL ? SECOND)',
              [username, await hashPassword(password), expiresIn]);
            return { status: 201, json: { id: result.insertId } };
          } catch (error) {
            if ((error as { code?: string }).code === 'ER_DUP_ENTRY') throw new HttpError(409, 'USERNAME_TAKEN', 'username taken');
            throw error;
          }
        },
      },
      {
        method: 'POST', path: '/api/login', handler: async (req) => {
          const body = await req.json();
          const username = field(body, 'username', 64);
          const password = field(body, 'password', 200);
          const rows = await query<RowDataPacket[]>(pool,
            'SELECT id, password_hash, expired FROM users WHERE username = ?', [username]);
          const user = rows[0];
          if (!user || !(await verifyPassword(password, String(user.password_hash)))) {
            throw new HttpError(401, 'BAD_CREDENTIALS', 'wrong username or password');
          }
          if (Number(user.expired) === 1) throw new HttpError(403, 'EXPIRED', 'account expired');
          const token = randomBytes(24).toString('hex');
          await redis.set(sessionKey(token), String(user.id), 'EX', config.sessionTtlSeconds);
          return { json: { token, id: Number(user.id) } };
        },
      },
      {
        method: 'POST', path: '/api/heartbeat', handler: async (req) => {
          const body = await req.json();
          const auth = req.headers.authorization;
          const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : field(body, 'token', 128);
          const userId = await userOf(token);
          const day = datestr();
          const agent = req.headers['user-agent'];
          const result = await query<ResultSetHeader>(pool,
            'INSERT IGNORE INTO user_logs (user_id, datestr, ip, user_agent) VALUES (?, ?, ?, ?)',
            [userId, day, req.ip.slice(0, 32), typeof agent === 'string' ? agent.slice(0, 1000) : null]);
          return { json: { userId, datestr: day, first: result.affectedRows === 1 } };
        },
      },
    ],
    health: async () => {
      const [mysql, cache] = await Promise.all([check(() => query(pool, 'SELECT 1', [], 1000)), check(() => redis.ping())]);
      return { mysql, redis: cache };
    },
    close: async () => {
      redis.disconnect();
      await pool.end();
    },
  };
  return running;
};
