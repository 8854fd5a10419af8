// Building blocks for the inventory schema: YAML scalars read as text, the
// existing field parsers wrapped as zod transforms (their messages kept), and
// null (an empty YAML value) dropped from the output.
import { z } from 'zod';

/** Issue params: the message is prefixed with its owner and this separator ("VIP "web" port 99999 is out of range"). */
export const OWNED = { owned: ' ' } as const;
/** The same with a colon ("load balancer "edge": hostKey is empty"). */
export const OWNED_COLON = { owned: ': ' } as const;

/** How a value that has the wrong shape is named in a message. */
function shape(input: unknown): string {
  if (Array.isArray(input)) return 'a list';
  if (input !== null && typeof input === 'object') return 'a mapping';
  return JSON.stringify(input) ?? String(input);
}

/** A scalar the YAML reader may have typed as a number (zone: 1, port: 22), read as its text. */
export const scalarText = z
  .union([z.string(), z.number()], {
    error: (iss) => `must be a single value (text or a number), not ${shape(iss.input)}`,
  })
  .transform(String);

/**
 * Text held to a pattern; `expected` completes "<field> must be ...". The pattern also lands in the JSON Schema
 * (editors check it as you type), so it must not rely on flags, which JSON Schema patterns cannot carry.
 */
export function text(pattern?: RegExp, expected?: string) {
  if (!pattern) return scalarText;
  if (pattern.flags !== '') throw new Error(`inventory schema pattern ${String(pattern)} must not use flags`);
  const held = z
    .string()
    .regex(pattern, { error: (iss) => `must be ${expected ?? pattern.source}, not ${JSON.stringify(iss.input)}` });
  return z.union([held, z.number().transform(String).pipe(held)], {
    error: (iss) => `must be ${expected ?? pattern.source}, not ${shape(iss.input)}`,
  });
}

/** Runs one of the inventory's text parsers; its error message becomes the issue (owned: prefixed with the owner). */
export function parsed<T>(parse: (text: string) => T, owned = false) {
  return scalarText.transform((value, ctx): T => {
    try {
      return parse(value);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: err instanceof Error ? err.message : String(err),
        input: value,
        ...(owned ? { params: OWNED } : {}),
      });
      return z.NEVER;
    }
  });
}

type Present<T> = Exclude<T, null | undefined>;
type OptionalKeys<T> = { [K in keyof T]: null extends T[K] ? K : undefined extends T[K] ? K : never }[keyof T];
export type Compact<T> = { [K in Exclude<keyof T, OptionalKeys<T>>]: T[K] } & {
  [K in OptionalKeys<T>]?: Present<T[K]>;
};

/** The object without its null or undefined fields, so an absent field is absent, not null. */
export function compact<T extends object>(o: T): Compact<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Compact<T>;
}

const YAML11_TRUE = /^(y|yes|on)$/i;
const YAML11_FALSE = /^(n|no|off)$/i;

function flagMessage(field: string, input: unknown): string {
  const shown = JSON.stringify(input) ?? String(input);
  const refused = `${field} must be true or false, not ${shown}`;
  if (typeof input === 'string' && (YAML11_TRUE.test(input) || YAML11_FALSE.test(input))) {
    const meant = YAML11_TRUE.test(input) ? 'true' : 'false';
    return `${refused}: YAML 1.2 reads ${input} as text, not a boolean; write ${field}: ${meant}`;
  }
  return refused;
}

/** A boolean: true/false (also quoted, as before); yes/no/on/off are refused with a hint, never read as false. */
export function flag(field: string) {
  return z
    .union([z.boolean(), z.enum(['true', 'false'])], { error: (iss) => flagMessage(field, iss.input) })
    .transform((v) => v === true || v === 'true');
}
