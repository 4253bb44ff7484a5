/**
 * An admin account of our own on a test mariadbd, reached over TCP like lifeboat reaches a
 * real database. (A fresh datadir has password-less `root@127.0.0.1`, which shadows
 * `root@'%'` for TCP clients, so tests do not rely on root over TCP.)
 */
import mysql from 'mysql2/promise';
import type { MariadbServer } from '../support/mariadb.ts';

export interface AdminAccount {
  user: string;
  password: string;
  /** A connection over the socket as root, for test set-up and inspection. */
  root(): Promise<mysql.Connection>;
}

export async function adminAccount(server: MariadbServer): Promise<AdminAccount> {
  const root = () => mysql.createConnection({ socketPath: server.socket, user: 'root', multipleStatements: false });
  const password = `a${Math.random().toString(36).slice(2)}`;
  const db = await root();
  try {
    await db.query('SET SESSION sql_log_bin = 0');
    await db.query("CREATE USER IF NOT EXISTS 'lbadmin'@'%' IDENTIFIED BY ?", [password]);
    await db.query("ALTER USER 'lbadmin'@'%' IDENTIFIED BY ?", [password]);
    await db.query("GRANT ALL PRIVILEGES ON *.* TO 'lbadmin'@'%' WITH GRANT OPTION");
  } finally {
    await db.end();
  }
  return { user: 'lbadmin', password, root };
}
