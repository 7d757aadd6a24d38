/** For tests: a writable destination for a logger that keeps each line written to it. */
import { Writable } from 'node:stream';

export function lineSink(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}
