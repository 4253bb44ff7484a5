/** go-fly stand-in: the customer-service chat, messages stored in `chat_messages`. */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { ServiceConfig } from '../config.ts';
import { check, createMysqlPool, query } from '../clients.ts';
import { field, HttpError } from '../http.ts';
import type { RunningService, StartService } from '../service.ts';

type FlyConfig = Extract<ServiceConfig, { service: 'go-fly' }>;
const PAGE = 100;

export const startGoFly: StartService<FlyConfig> = async (config) => {
  const pool = createMysqlPool(config.mysql);
  const running: RunningService = {
    routes: [
      {
        method: 'POST', path: '/chat/messages', handler: async (req) => {
          const body = await req.json();
          const result = await query<ResultSetHeader>(pool,
            'INSERT INTO chat_messages (sender, body) VALUES (?, ?)', [field(body, 'sender', 64), field(body, 'body', 2000)]);
          return { status: 201, json: { id: result.insertId } };
        },
      },
      {
        method: 'GET', path: '/chat/messages', handler: async (req) => {
          const after = Number(req.query.get('after') ?? '0');
          if (!Number.isSafeInteger(after) || after < 0) throw new HttpError(400, 'BAD_AFTER', 'after: expected a message id');
          const rows = await query<RowDataPacket[]>(pool,
            'SELECT id, sender, body, created_at FROM chat_messages WHERE id > ? ORDER BY id LIMIT ?', [after, PAGE]);
          return { json: { messages: rows.map((r) => ({ id: Number(r.id), sender: r.sender, body: r.body, createdAt: r.created_at })) } };
        },
      },
    ],
    health: async () => ({ mysql: await check(() => query(pool, 'SELECT 1', [], 1000)) }),
    close: () => pool.end(),
  };
  return running;
};
