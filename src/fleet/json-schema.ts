/** The fleet file's JSON Schema, derived from the zod schema so the two never disagree. */
import { z } from 'zod';
import { fleetSchema } from './schema.ts';

export function fleetJsonSchema(): Record<string, unknown> {
  // "input" describes what a person writes: fields with defaults are optional there.
  const schema = z.toJSONSchema(fleetSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'lifeboat fleet file', $id: 'https://lifeboat.invalid/fleet.schema.json' };
}
