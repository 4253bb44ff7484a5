/**
 * A `Change` as it may be shown or kept: each kind through the one masker (`util/redact.ts`),
 * SQL parameters by the column they are bound to. `renderChange` and the journal use it.
 */
import type { Change } from './action.ts';
import { MASK, redactConfigText, redactText, redactValue, secretParameterSlots } from '../util/redact.ts';

export function redactChange(change: Change): Change {
  switch (change.kind) {
    case 'command':
      return { ...change, command: redactText(change.command) };
    case 'file':
      return { ...change, path: change.path, diff: redactConfigText(change.diff) };
    case 'note':
      return { ...change, text: redactText(change.text) };
    case 'sql': {
      const secretSlots = secretParameterSlots(change.sql);
      const params = change.params.map((p, i) => (secretSlots.has(i) ? MASK : redactValue(p)));
      return { ...change, sql: redactText(change.sql), params };
    }
  }
}
