/**
 * A fast check for the common `open` (no `headers`: agents say `openHeaders: false`), one per
 * stream on the agent's hot path: it accepts only what `openFrame` accepts and builds what zod
 * builds (the schema's own fields, unknown keys dropped) without zod's per-parse allocations.
 * Anything else returns undefined and goes to zod, which stays the one rule;
 * open-fast.test.ts holds the two to the same output on valid and mutated frames.
 */
import { MAX_OPEN_FRAME_BYTES } from '../version.js';
import type { OpenFrame } from './stream.js';

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** `raw` (a parsed JSON value) as the `open` zod would make of it, or undefined to ask zod. */
export function fastOpen(raw: unknown): OpenFrame | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const { type, stream, method, path, headers, body, bodyBytes, model, rerouted } = raw as Record<
    string,
    unknown
  >;
  if (type !== 'open' || headers !== undefined || !isInt(stream, 1, 0xffff_ffff)) return undefined;
  if (method !== 'GET' && method !== 'POST') return undefined;
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 2048) return undefined;
  if (bodyBytes !== undefined && !isInt(bodyBytes, 1, MAX_OPEN_FRAME_BYTES)) return undefined;
  if (model !== undefined && (typeof model !== 'string' || model.length > 256)) return undefined;
  if (rerouted !== undefined && rerouted !== true) return undefined;
  const frame: OpenFrame = { type, stream, method, path };
  if ('body' in raw) frame.body = body;
  if (bodyBytes !== undefined) frame.bodyBytes = bodyBytes;
  if (model !== undefined) frame.model = model;
  if (rerouted) frame.rerouted = rerouted;
  return frame;
}
