/** @arena-relay/shared: the wire contract between relay and bridge agent. Imports nothing but zod. */
export * from './backoff.js';
export * from './breaches.js';
export * from './bridge-reasons.js';
export * from './close-codes.js';
export * from './config.js';
export * from './cork.js';
export * from './data-frame.js';
export * from './frames/index.js';
export * from './json.js';
export * from './log-redaction.js';
export * from './loopback.js';
export * from './openai-error.js';
export * from './refusals.js';
export * from './release.js';
export * from './text.js';
export * from './version.js';
export * from './version-order.js';
