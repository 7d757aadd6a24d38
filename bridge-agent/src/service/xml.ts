/** Text for XML element content (the launchd plist and the Task Scheduler file). */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes `&`, `<`, `>` and both quotes; the callers refuse control characters before. */
export function xmlText(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);
}
