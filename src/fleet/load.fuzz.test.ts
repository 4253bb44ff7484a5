/**
 * Hostile and broken fleet files get one clear answer: the file loads, or it is refused with
 * located one-line problems (the CLI's exit 2) — never another error (exit 3), never a hang,
 * never pages of output. Seeded: a failure names its seed and mutation, and repeats.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoPath } from '../util/repo.ts';
import { FleetError } from './errors.ts';
import { mutate, seeded } from './fuzz.ts';
import { loadFleet, MAX_FLEET_BYTES, MAX_PROBLEMS, parseFleet } from './load.ts';

const SEED = 20261130;
const MUTATIONS = 2000;

function answer(text: string): { ok: true } | { ok: false; error: unknown } {
  try {
    parseFleet(text);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Loads `text` and checks the answer is a clear one; true when the file loaded. */
function assertOneClearAnswer(text: string, what: string): boolean {
  const t0 = performance.now();
  const r = answer(text);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `${what}: took ${Math.round(ms)} ms`);
  if (r.ok) return true;
  assert.ok(r.error instanceof FleetError, `${what}: ${(r.error as Error)?.name}: ${(r.error as Error)?.message?.slice(0, 200)}`);
  const problems = r.error.problems;
  assert.ok(problems.length >= 1 && problems.length <= MAX_PROBLEMS + 1, `${what}: ${problems.length} problems`);
  for (const p of problems) {
    assert.ok(p.line >= 1 && p.column >= 1, `${what}: unlocated ${JSON.stringify(p)}`);
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f\u007f]/.test(p.message + p.path), `${what}: a control character in ${JSON.stringify(p.message)}`);
    assert.ok(p.message.length <= 300, `${what}: a message of ${p.message.length} characters`);
  }
  return false;
}

test(`${MUTATIONS} seeded mutations of the example fleets: each loads or is refused with located one-line problems, within 2 s`, async () => {
  const bases = await Promise.all(['go-speed', 'shopfront'].map((e) => readFile(repoPath('examples', e, 'fleet.yaml'), 'utf8')));
  const random = seeded(SEED);
  let refused = 0;
  for (let i = 0; i < MUTATIONS; i++) {
    const text = mutate(bases[i % bases.length]!, random);
    if (!assertOneClearAnswer(text, `seed ${SEED}, mutation ${i}`)) refused++;
  }
  assert.ok(refused > MUTATIONS / 2, `most mutations break the file (${refused} refused)`);
});

test('the hostile files found by fuzzing each get one clear answer', async () => {
  const base = await readFile(repoPath('examples', 'go-speed', 'fleet.yaml'), 'utf8');
  const cases: Record<string, [string, RegExp]> = {
    'an alias used 101 times': [`${base}\nanchors: &r [app]\nmany: [${Array.from({ length: 101 }, () => '*r').join(', ')}]\n`, /YAML aliases: Excessive alias count/],
    'an undefined alias': [`${base}\nx: *nope\n`, /Unresolved alias/],
    'a mapping where a value is expected': [base.replace('version: 1', 'version: {toString: 1}'), /version: value `a mapping` is not valid/],
    'nesting past the stack': [base.replace('name: go-speed', `name: ${'{ x: '.repeat(20000)}`), /./],
    '20,000 unknown keys': [`${base}\n${Array.from({ length: 20_000 }, (_, k) => `k${k}: ${k}`).join('\n')}\n`, /unknown key `k0`/],
    'keys that collide after conversion': [`${base}\n1: x\n"1": y\n`, /key `1` appears twice/],
    '`true` and "true"': [`${base}\ntrue: x\n"true": y\n`, /key `true` appears twice/],
    'a __proto__ key': [`${base}\n__proto__: { polluted: true }\n`, /key `__proto__` is not allowed/],
    'a NUL byte in a path': [base.replace('dir: /wwwroot/go/go-api', 'dir: "/wwwroot/go/go\\0api"'), /services\.go-api\.dir: a NUL byte/],
    'a line break in a cron schedule': [base.replace('"* * * * *"', '"* * * *\\n*"'), /schedule: a line break or control character/],
    'an unknown YAML tag': [base.replace('name: go-speed', 'name: !evil go-speed'), /Unresolved tag: !evil/],
    'ANSI escapes in a value': [base.replace('name: go-speed', 'name: "\\e[31mred"'), /name: a line break or control character/],
    'a shell character in a data folder': [base.replace('dataDirs: [/wwwroot/go/go-upload/uploads]', 'dataDirs: ["/wwwroot/up,command=sh"]'), /a path may hold letters, digits/],
    'a quote in the dump folder': [base.replace('dumpDir: /shell/sql_backup', 'dumpDir: "/shell/x\\"$(id)"'), /a path may hold letters, digits/],
    'a quote and a command in a health path': [base.replace('port: 8000, path: /healthz', 'port: 8000, path: "/healthz\'$(id)"'), /an HTTP path like \/health/],
    'a path stepping up': [base.replace('dir: /wwwroot/go/go-api', 'dir: /wwwroot/../etc'), /may not step up/],
    'a unit name stepping up': [base.replace('driver: { type: supervisor }', 'driver: { type: systemd, unit: ../../x }'), /may not contain `\.\.`|letters, digits/],
    'a name of half a megabyte': [base.replace('name: go-speed', `name: ${'x'.repeat(500_000)}`), /a name is at most 63 characters/],
  };
  for (const [what, [text, expected]] of Object.entries(cases)) {
    assertOneClearAnswer(text, what);
    const r = answer(text);
    assert.ok(!r.ok && r.error instanceof FleetError, `${what}: refused`);
    assert.match((r.error as FleetError).message, expected, what);
  }
  const many = answer(`${base}\n${Array.from({ length: 5000 }, (_, k) => `k${k}: ${k}`).join('\n')}\n`);
  assert.ok(!many.ok && many.error instanceof FleetError);
  assert.equal(many.error.problems.length, MAX_PROBLEMS + 1);
  assert.match(many.error.problems.at(-1)!.message, /… and 4950 more problems not shown/);
});

test('a FIFO, a folder or a file over the size limit is refused at once, not read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-hostile-'));
  try {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(loadFleet(fifo), (e: unknown) => e instanceof FleetError && /not a regular file/.test(e.message));
    await assert.rejects(loadFleet(dir), (e: unknown) => e instanceof FleetError && /not a regular file|cannot read/.test(e.message));
    const big = join(dir, 'big.yaml');
    await writeFile(big, `version: 1\n# ${'x'.repeat(MAX_FLEET_BYTES)}\n`);
    await assert.rejects(loadFleet(big), (e: unknown) => e instanceof FleetError && new RegExp(`at most ${MAX_FLEET_BYTES} bytes`).test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
