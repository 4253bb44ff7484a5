/**
 * Generates the bench's `speed` database: a user table shaped like the business's (two
 * secondary indexes, ~230 bytes a row) doubled with INSERT … SELECT until it holds at least
 * the asked number of rows, plus a log table whose rows dumps leave out.
 */
import type { MariadbLocal } from '../src/backup/mariadb-local.ts';
import { sqlOn } from '../src/backup/mariadb-local.ts';
import type { Remote } from '../src/remote/remote.ts';

export async function generateSpeed(remote: Remote, local: MariadbLocal, minRows: number): Promise<{ rows: number; logRows: number }> {
  const sql = (statement: string, params: Array<string | number> = []) => sqlOn(remote, local, statement, params);
  await sql('CREATE DATABASE speed');
  await sql(`CREATE TABLE speed.t_user (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(64) NOT NULL,
    email VARCHAR(128) NOT NULL,
    password_hash CHAR(60) NOT NULL,
    balance DECIMAL(12,2) NOT NULL DEFAULT 0,
    status TINYINT NOT NULL DEFAULT 1,
    expires_at DATETIME NULL,
    last_ip VARCHAR(45) NULL,
    user_agent VARCHAR(255) NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY k_email (email),
    KEY k_expires (expires_at)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  await sql(`CREATE TABLE speed.user_logs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT, datestr VARCHAR(32), ip VARCHAR(32), user_agent VARCHAR(1000) NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NULL, comment VARCHAR(255) NULL,
    UNIQUE KEY u_user_day (user_id, datestr)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  const row = `SELECT CONCAT('user', FLOOR(RAND() * 1000000000)), CONCAT(MD5(RAND()), '@example.com'),
      CONCAT('$2a$10$', LEFT(CONCAT(MD5(RAND()), MD5(RAND())), 53)), ROUND(RAND() * 1000, 2), 1 + (RAND() > 0.9),
      NOW() + INTERVAL FLOOR(RAND() * 365) DAY, CONCAT('198.51.100.', FLOOR(RAND() * 255)),
      CONCAT('Mozilla/5.0 (Linux; Android ', FLOOR(RAND() * 14), ') speed-app/', MD5(RAND()))`;
  const columns = '(username, email, password_hash, balance, status, expires_at, last_ip, user_agent)';
  await sql(`INSERT INTO speed.t_user ${columns} ${row}`);
  let rows = 1;
  // Bounded: 2^40 rows is far past any bench.
  for (let i = 0; i < 40 && rows < minRows; i++) {
    await sql(`INSERT INTO speed.t_user ${columns} ${row} FROM speed.t_user`);
    rows *= 2;
  }
  const logRows = Math.min(rows, 100_000);
  await sql(`INSERT INTO speed.user_logs (user_id, datestr, ip, user_agent)
    SELECT id, '2026-11-24', last_ip, user_agent FROM speed.t_user ORDER BY id LIMIT ?`, [logRows]);
  return { rows, logRows };
}
