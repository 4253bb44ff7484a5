/**
 * The drills run from this machine, one row each (state migration 5): what the dashboard's
 * history chart shows. Only the figures, never the report's details (which name secrets'
 * places and planted values).
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

export class DrillHistory {
  private constructor(private readonly db: StateDb) {}

  static open(statePath: string): DrillHistory {
    return new DrillHistory(openState(statePath));
  }

  close(): void {
    this.db.close();
  }

  record(e: DrillEntry): void {
    this.db.prepare('INSERT INTO drill_reports (fleet, drill, at, passed, rto_s, lost_writes, auto) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.fleet, e.drill, e.at, e.passed ? 1 : 0, e.rtoS, e.lostWrites, e.auto ? 1 : 0);
  }

  /** The newest `limit` drills of `fleet`, oldest first. */
  recent(fleet: string, limit = 30): DrillEntry[] {
    const rows = this.db.prepare('SELECT fleet, drill, at, passed, rto_s AS rtoS, lost_writes AS lostWrites, auto FROM drill_reports WHERE fleet = ? ORDER BY at DESC, id DESC LIMIT ?')
      .all(fleet, limit) as Array<Omit<DrillEntry, 'passed' | 'auto'> & { passed: number; auto: number }>;
    return rows.reverse().map((r) => ({ ...r, passed: r.passed === 1, auto: r.auto === 1 }));
  }
}
