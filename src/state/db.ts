/**
 * lifeboat's state on one machine: one SQLite file (WAL, so the CLI can read while a run
 * writes). Schema changes are numbered migrations applied in order and tracked in
 * `PRAGMA user_version`; a new table is a new entry at the end of `MIGRATIONS`, never an
 * edit of an old one.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type StateDb = Database.Database;

export const MIGRATIONS: readonly string[] = [
  // 1: the recovery journal.
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     scenario TEXT NOT NULL,
     input TEXT NOT NULL,
     mode TEXT NOT NULL CHECK (mode IN ('plan', 'confirm', 'auto')),
     fleet TEXT,
     automatic INTEGER NOT NULL DEFAULT 0,
     follow_ups TEXT NOT NULL DEFAULT '[]',
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     outcome TEXT NOT NULL DEFAULT 'running',
     error TEXT
   ) STRICT;
   CREATE INDEX runs_automatic ON runs (automatic, started_at);
   CREATE TABLE steps (
     run_id TEXT NOT NULL REFERENCES runs (id),
     idx INTEGER NOT NULL,
     parent INTEGER,
     title TEXT NOT NULL,
     machines TEXT NOT NULL,
     mutating INTEGER NOT NULL,
     undoable INTEGER NOT NULL,
     state TEXT NOT NULL DEFAULT 'pending'
       CHECK (state IN ('pending', 'applying', 'applied', 'verified', 'failed', 'skipped')),
     applications INTEGER NOT NULL DEFAULT 0,
     started_at INTEGER,
     ended_at INTEGER,
     output TEXT NOT NULL DEFAULT '',
     error TEXT,
     error_code TEXT,
     changes TEXT NOT NULL DEFAULT '[]',
     PRIMARY KEY (run_id, idx)
   ) STRICT;
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id TEXT NOT NULL REFERENCES runs (id),
     at INTEGER NOT NULL,
     step INTEGER,
     event TEXT NOT NULL,
     detail TEXT
   ) STRICT;
   CREATE INDEX events_run ON events (run_id, id);
   CREATE TABLE acknowledgements (
     run_id TEXT NOT NULL REFERENCES runs (id),
     at INTEGER NOT NULL,
     by TEXT NOT NULL,
     comment TEXT
   ) STRICT;`,
  // 2: which process runs a run (`host:pid`), so a live run is never resumed by a second one.
  `ALTER TABLE runs ADD COLUMN owner TEXT;`,
  // 3: steps can be undone. SQLite cannot alter a CHECK, so the table is rebuilt.
  `CREATE TABLE steps_v3 (
     run_id TEXT NOT NULL REFERENCES runs (id),
     idx INTEGER NOT NULL,
     parent INTEGER,
     title TEXT NOT NULL,
     machines TEXT NOT NULL,
     mutating INTEGER NOT NULL,
     undoable INTEGER NOT NULL,
     state TEXT NOT NULL DEFAULT 'pending'
       CHECK (state IN ('pending', 'applying', 'applied', 'verified', 'failed', 'skipped', 'undone')),
     applications INTEGER NOT NULL DEFAULT 0,
     started_at INTEGER,
     ended_at INTEGER,
     output TEXT NOT NULL DEFAULT '',
     error TEXT,
     error_code TEXT,
     changes TEXT NOT NULL DEFAULT '[]',
     PRIMARY KEY (run_id, idx)
   ) STRICT;
   INSERT INTO steps_v3 SELECT * FROM steps;
   DROP TABLE steps;
   ALTER TABLE steps_v3 RENAME TO steps;`,
  // 4: the dashboard's users (scrypt hashes) and their sessions (only a hash of each token).
  `CREATE TABLE web_users (
     name TEXT PRIMARY KEY,
     hash TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE web_sessions (
     token_hash TEXT PRIMARY KEY,
     user TEXT NOT NULL REFERENCES web_users (name) ON DELETE CASCADE,
     csrf TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT;`,
  // 5: the drills run from this machine, for their RTO and lost-writes history.
  `CREATE TABLE drill_reports (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     fleet TEXT NOT NULL,
     drill TEXT NOT NULL,
     at INTEGER NOT NULL,
     passed INTEGER NOT NULL,
     rto_s REAL,
     lost_writes INTEGER NOT NULL,
     auto INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX drill_reports_fleet ON drill_reports (fleet, at);`,
  // 6: restore tests (`backup verify`), for the dashboard's backups.
  `CREATE TABLE restore_tests (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     fleet TEXT NOT NULL,
     store TEXT NOT NULL,
     stamp TEXT NOT NULL,
     kind TEXT NOT NULL,
     at INTEGER NOT NULL,
     ok INTEGER NOT NULL,
     ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX restore_tests_fleet ON restore_tests (fleet, store, at);`,
];

/** `~/.lifeboat/state.db` unless the operator names another file with `--state`. */
export function defaultStatePath(home: string = homedir()): string {
  return join(home, '.lifeboat', 'state.db');
}

export interface OpenStateOptions {
  /** Open an existing file without creating or migrating it (for read-only commands). */
  readonly?: boolean;
}

export function openState(path: string, options: OpenStateOptions = {}): StateDb {
  // Folders made here are lifeboat's own and private; an existing folder (/tmp) is left as it is.
  if (!options.readonly) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Made 0600 before SQLite opens it: never a moment with a readable journal.
    closeSync(openSync(path, 'a', 0o600));
  }
  const db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
  // The journal holds what was done to the fleet: readable by its owner only. SQLite gives
  // the -wal and -shm files the main file's mode, so this comes before WAL is switched on.
  if (!options.readonly) chmodSync(path, 0o600);
  // Another process (the daemon, a second CLI) may hold the write lock for a moment.
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL is durable against a process crash, which is what resume needs.
    db.pragma('synchronous = NORMAL');
    migrate(db);
  }
  db.pragma('foreign_keys = ON');
  return db;
}

export function migrate(db: StateDb): void {
  // The version is read inside the write transaction, so two processes opening a new
  // file at once cannot both apply the same migration.
  const applyNext = db.transaction((): boolean => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const sql = MIGRATIONS[version];
    if (sql === undefined) return false;
    db.exec(sql);
    // user_version cannot be bound as a parameter; it is our own integer, never input.
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  for (let i = 0; i < MIGRATIONS.length && applyNext.immediate(); i++);
}
