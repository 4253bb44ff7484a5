/**
 * One interface for the config file formats a binding can point into. Each format edits
 * one scalar in place and leaves every other byte of the file alone (comments, order,
 * indentation, quoting), because these files belong to the services and their owners.
 */

export type ConfigValue = string | number | boolean | null;

export interface ConfigFormat {
  /** The scalar at `key` (dots separate levels where the format has levels). */
  get(text: string, key: string): ConfigValue | undefined;
  /** The text with that scalar replaced; throws `ConfigFormatError` when the key is absent. */
  set(text: string, key: string, value: ConfigValue): string;
}

export class ConfigFormatError extends Error {
  override name = 'ConfigFormatError';
  constructor(
    readonly code: 'parse-failed' | 'key-missing' | 'not-scalar',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `a.b.0.c` → levels; digits also address sequence items. */
export function keyPath(key: string): string[] {
  return key.split('.');
}
