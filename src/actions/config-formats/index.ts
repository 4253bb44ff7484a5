/** The config formats a binding may name, keyed by the fleet's `format` field. */
import type { Binding } from '../../fleet/schema.ts';
import { envFormat } from './env-format.ts';
import type { ConfigFormat } from './format.ts';
import { jsonFormat } from './json-format.ts';
import { yamlFormat } from './yaml-format.ts';

export const configFormats = {
  yaml: yamlFormat,
  json: jsonFormat,
  env: envFormat,
} satisfies Record<Binding['format'], ConfigFormat>;

export { ConfigFormatError, type ConfigFormat, type ConfigValue } from './format.ts';
