/**
 * Control frames: JSON text frames exchanged on the agent socket, one zod schema per kind, by
 * concern (handshake, stream, control), and one union per direction with its parser (codec).
 * Types are inferred from the schemas; nobody hand-writes a second interface.
 */
export * from './codec.js';
export * from './control.js';
export * from './handshake.js';
export * from './stream.js';
