/**
 * What was proved from this machine, for the dashboard: the drills run (state migration 5,
 * the history chart) and the restore tests of `backup verify` (migration 6, the backups
 * table). Only the figures, never a report's details (which name secrets' places and
 * planted values).
 */
import { openState, type StateDb } from './db.ts';

export interface DrillEntry {
  fleet: string;
  drill: string;
  at: number;
  passed: boolean;
  rtoS: number | null;
  lostWrites: number;
  auto: boolean;
}

export interface RestoreTestEntry {
  fleet: string;
  store: string;
  stamp: string;
  kind: string;
  at: number;
  ok: boolean;
  ms: number;
}

export class History {
  private constructor(private readonly db: StateDb) {}

  static open(statePath: string): History {
    return new History(openState(statePath));
  }

  close(): void {
    this.db.close();
  }

  record(e: DrillEntry): void {
    this.db.prepare('INSERT INTO drill_reports (fleet, drill, at, passed, rto_s, lost_writes, auto) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.fleet, e.drill, e.at, e.passed ? 1 : 0, e.rtoS, e.lostWrites, e.auto ? 1 : 0);
  }

  recordRestoreTest(e: RestoreTestEntry): void {
    this.db.prepare('INSERT INTO restore_tests (fleet, store, stamp, kind, at, ok, ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.fleet, e.store, e.stamp, e.kind, e.at, e.ok ? 1 : 0, e.ms);
  }

  /** The newest restore test of each store of `fleet`. */
  lastRestoreTests(fleet: string): Map<string, RestoreTestEntry> {
    const rows = this.db.prepare(`SELECT fleet, store, stamp, kind, at, ok, ms FROM restore_tests t WHERE fleet = ?
      AND id = (SELECT MAX(id) FROM restore_tests u WHERE u.fleet = t.fleet AND u.store = t.store)`).all(fleet) as Array<Omit<RestoreTestEntry, 'ok'> & { ok: number }>;
    return new Map(rows.map((r) => [r.store, { ...r, ok: r.ok === 1 }]));
  }

  /** The newest `limit` drills of `fleet`, oldest first. */
  recent(fleet: string, limit = 30): DrillEntry[] {
    const rows = this.db.prepare('SELECT fleet, drill, at, passed, rto_s AS rtoS, lost_writes AS lostWrites, auto FROM drill_reports WHERE fleet = ? ORDER BY at DESC, id DESC LIMIT ?')
      .all(fleet, limit) as Array<Omit<DrillEntry, 'passed' | 'auto'> & { passed: number; auto: number }>;
    return rows.reverse().map((r) => ({ ...r, passed: r.passed === 1, auto: r.auto === 1 }));
  }
}
