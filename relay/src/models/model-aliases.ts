/**
 * Model aliases and fallback lists: what a consumer's `model` (and OpenRouter's `models: [...]`)
 * stands for, as the ordered list of bridge models the relay tries. Pure functions over a table;
 * the table itself lives in alias-book.ts.
 */
import { z } from 'zod';

/** Alias name → the models it stands for, in the order they are tried. */
export type AliasTable = ReadonlyMap<string, readonly string[]>;

/** Models tried for one request, at most: a longer list is refused, not cut. */
export const MAX_CANDIDATES = 8;

/** What an alias may be called: a model name's characters, so it can stand where a model does. */
export const aliasName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, 'letters, digits and . _ : / @ + - (not first)');

/** An alias's targets: real model names, tried in order. */
export const aliasTargets = z
  .array(z.string().min(1).max(256))
  .min(1)
  .max(MAX_CANDIDATES)
  .refine((models) => new Set(models).size === models.length, 'a model is listed twice');

/** The models a request names, expanded through the aliases, first occurrence kept, in order. */
export function candidateModels(
  table: AliasTable,
  model: string,
  fallbacks: readonly string[] = [],
): string[] {
  const out: string[] = [];
  for (const name of [model, ...fallbacks]) {
    for (const target of table.get(name) ?? [name]) {
      if (!out.includes(target)) out.push(target);
    }
  }
  return out;
}

/**
 * Why `targets` cannot become alias `name` in `table`, or undefined when it can: no alias points
 * at another alias (so a lookup is one step and no loop can form) and no model name is shadowed
 * by an alias that a target names.
 */
export function aliasConflict(
  table: AliasTable,
  name: string,
  targets: readonly string[],
): string | undefined {
  if (targets.includes(name)) return `alias '${name}' cannot name itself`;
  const nested = targets.find((target) => table.has(target) && target !== name);
  if (nested !== undefined) return `'${nested}' is an alias itself; list its models instead`;
  for (const [other, models] of table) {
    if (other !== name && models.includes(name)) {
      return `alias '${other}' names '${name}' as a model; an alias cannot take a target's name`;
    }
  }
  return undefined;
}
