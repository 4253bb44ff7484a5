/**
 * The confirm prompt the CLI gives the engine in `confirm` mode: shows what the step
 * would change and reads yes / no / all from the terminal. Anything but a clear yes is a no.
 */
import { createInterface } from 'node:readline/promises';
import { renderChange, type Change } from '../actions/action.ts';
import type { ConfirmAnswer, ConfirmFn } from './engine.ts';
import type { Step } from './step.ts';

export function parseAnswer(text: string): ConfirmAnswer {
  const word = text.trim().toLowerCase();
  if (word === 'y' || word === 'yes') return 'yes';
  if (word === 'a' || word === 'all') return 'all';
  return 'no';
}

export function renderQuestion(step: Step, changes: readonly Change[]): string {
  const lines = [`\nNext: ${step.title}${step.machines.length ? `  (${step.machines.join(', ')})` : ''}`];
  for (const change of changes) lines.push(renderChange(change).split('\n').map((l) => `    ${l}`).join('\n'));
  lines.push('Apply this step? [y]es / [n]o, stop here / [a]ll remaining: ');
  return lines.join('\n');
}

export interface TtyPrompt {
  confirm: ConfirmFn;
  /** Releases the input stream; call when the run ends. */
  close(): void;
}

/**
 * A prompt on the given streams (the CLI passes stdin and stderr, so stdout stays for
 * output). One reader for the whole run, so piped answers (`printf 'y\ny\n'`) are not
 * lost between questions; end of input answers no.
 */
export function ttyConfirm(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): TtyPrompt {
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async confirm(step, changes) {
      output.write(renderQuestion(step, changes));
      const next = await lines.next();
      return next.done ? 'no' : parseAnswer(next.value);
    },
    close: () => rl.close(),
  };
}

/** One yes/no question (e.g. "undo these 4 steps?"); anything but yes is no. */
export async function askYesNo(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, question: string): Promise<boolean> {
  const rl = createInterface({ input, terminal: false });
  try {
    output.write(`${question} [y/N] `);
    const next = await rl[Symbol.asyncIterator]().next();
    return !next.done && parseAnswer(next.value) === 'yes';
  } finally {
    rl.close();
  }
}
