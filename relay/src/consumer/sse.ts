/** Server-sent events as the front-ends write them: a named event and its JSON data. */

/** One SSE event: `event: <name>` and a single `data:` line (JSON never holds a raw newline). */
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** One unnamed SSE event (chat completion chunks): a single `data:` line. */
export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}
