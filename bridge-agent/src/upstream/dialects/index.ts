/** The bridge dialects by name. */
import type { Dialect, DialectName } from './dialect.js';
import { lmarenabridgeCw } from './lmarenabridge-cw.js';
import { lmarenabridgeV2 } from './lmarenabridge-v2.js';
import { openaiCompatible } from './openai.js';
import { webai2api } from './webai2api.js';

export { DIALECT_NAMES, type Dialect, type DialectName, type ErrorObject, errorObject } from './dialect.js';

export const DIALECTS: Readonly<Record<DialectName, Dialect>> = Object.freeze({
  'lmarenabridge-v2': lmarenabridgeV2,
  'lmarenabridge-cw': lmarenabridgeCw,
  webai2api,
  openai: openaiCompatible,
});
