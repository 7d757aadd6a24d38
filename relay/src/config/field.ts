/**
 * The shape of one relay setting — its variable, schema, unit conversion, documentation line —
 * and the schemas several settings share. The table itself is fields.ts.
 */
import { booleanSetting } from '@arena-relay/shared';
import { z } from 'zod';

/** One environment variable the relay reads, and how it becomes a `RelayConfig` value. */
export type Field<T = unknown> = {
  /** The environment variable. */
  env: string;
  /** Coerces, defaults and validates the raw value; it gets `undefined` when unset or blank. */
  schema: z.ZodType;
  /** The validated value in the unit the code uses (seconds → ms, a list → an array). */
  convert: (value: unknown) => T;
  /** One line for the README's table: what it does, in which unit. */
  doc: string;
  /** Never echoed in an error message (it is, or may hold, a credential). */
  secret: boolean;
  /** The README's default, when the schema's own would mislead (computed, generated, none). */
  shownDefault: string | undefined;
};

type FieldOptions<S extends z.ZodType, T> = {
  to?: (value: z.output<S>) => T;
  secret?: boolean;
  shownDefault?: string;
};

/** A table entry; without `to`, the code gets the validated value as it is. */
export function field<S extends z.ZodType, T = z.output<S>>(
  env: string,
  schema: S,
  doc: string,
  options: FieldOptions<S, T> = {},
): Field<NoInfer<T>> {
  const to = options.to ?? ((value: z.output<S>) => value as unknown as T);
  return {
    env,
    schema,
    convert: (value) => to(value as z.output<S>),
    doc,
    secret: options.secret ?? false,
    shownDefault: options.shownDefault,
  };
}

/** A duration in seconds (fractions allowed, > 0); `to: toMs` gives the code milliseconds. */
export function seconds(fallback: number) {
  return z.coerce.number().positive().default(fallback);
}

export const toMs = (seconds: number): number => Math.round(seconds * 1000);
export const minutesToMs = (minutes: number): number => Math.round(minutes * 60_000);

/** An integer setting from `min` to `max`, with zod's own messages ("Too big: …"). */
export function integer(min: number, max: number, fallback: number) {
  return z.coerce.number().int().min(min).max(max).default(fallback);
}

/** Optional text, trimmed. */
export const optionalString = z.string().trim().optional();

/** Optional text that must pass `check` when set. */
export function optionalChecked(check: (value: string) => boolean, message: string) {
  return optionalString.refine((v) => v === undefined || check(v), { message });
}

/** false unless set to one of the boolean words (shared with the agent). */
export const flag = booleanSetting.default(false);

/** A comma-separated list, trimmed, empty entries dropped. */
export const commaList = (value: string | undefined): string[] =>
  value
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean) ?? [];

/** Per model, per 1 000 tokens; `*` prices every model not listed. */
const priceTable = z.record(
  z.string().min(1),
  z.strictObject({ prompt: z.number().nonnegative(), completion: z.number().nonnegative() }),
);
export type PriceTable = z.infer<typeof priceTable>;

/** PRICE_TABLE: JSON `{"<model>": {"prompt": <per 1k>, "completion": <per 1k>}}`; unset = no prices. */
export const priceTableJson = z
  .string()
  .optional()
  .transform((raw, ctx): PriceTable => {
    if (raw === undefined) return {};
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be JSON: {"<model>": {"prompt": 0.5, "completion": 1.5}}',
      });
      return z.NEVER;
    }
    const parsed = priceTable.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || 'value'}: ${issue.message}` });
    }
    return z.NEVER;
  });
