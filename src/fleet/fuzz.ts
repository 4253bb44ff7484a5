/**
 * Seeded mutations of fleet files, for the fuzz test of the loader (load.fuzz.test.ts): the
 * kinds of damage a hand-edited or hostile file carries — cut and doubled lines, stray YAML
 * punctuation, anchors and aliases, control characters, huge values, deep nesting.
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same mutations. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [':', ': ', '{', '}', '[', ']', '- ', '*a', '&a ', '!!binary ', '!foo ', '"', "'", '\0', '\n', '\t', '#', ',', '? ', '|', '>', '%', '@', '`', '\u001b[31m', '..', '$(id)', ';', '__proto__: 1', 'toString: 1', '1: x', '"1": y', '<<: *a'];

export function mutate(text: string, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const at = () => Math.floor(random() * (text.length + 1));
  const lines = () => text.split('\n');
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    switch (Math.floor(random() * 8)) {
      case 0: { // cut a span
        const a = at();
        text = text.slice(0, a) + text.slice(a + Math.floor(random() * 40));
        break;
      }
      case 1: { // insert punctuation
        const a = at();
        text = text.slice(0, a) + pick(PIECES) + text.slice(a);
        break;
      }
      case 2: { // double a line
        const ls = lines();
        const n = Math.floor(random() * ls.length);
        ls.splice(n, 0, ls[n]!);
        text = ls.join('\n');
        break;
      }
      case 3: { // swap two lines
        const ls = lines();
        const x = Math.floor(random() * ls.length);
        const y = Math.floor(random() * ls.length);
        [ls[x], ls[y]] = [ls[y]!, ls[x]!];
        text = ls.join('\n');
        break;
      }
      case 4: { // a value made huge
        const a = at();
        text = text.slice(0, a) + 'x'.repeat(1 + Math.floor(random() * 2000)) + text.slice(a);
        break;
      }
      case 5: { // deep nesting
        const a = at();
        const depth = 1 + Math.floor(random() * 1000);
        text = text.slice(0, a) + '{ x: '.repeat(depth) + text.slice(a);
        break;
      }
      case 6: { // an anchor and many aliases
        text = `${text}\nextra: &a [1]\nmore: [${Array.from({ length: Math.floor(random() * 300) }, () => '*a').join(', ')}]\n`;
        break;
      }
      default: { // many unknown keys
        text = `${text}\n${Array.from({ length: Math.floor(random() * 300) }, (_, k) => `k${k}: ${k}`).join('\n')}\n`;
      }
    }
  }
  return text;
}
