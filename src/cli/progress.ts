import type { RunProgress } from '../sync/engine.js';

interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const PLAIN_INTERVAL_MS = 5_000;

/**
 * On a terminal, one line rewritten in place; elsewhere (CI, log files), a plain line at
 * most every few seconds.
 */
export function progressReporter(stream: ProgressStream, now: () => number = Date.now): { update: (p: RunProgress) => void; done: () => void } {
  let lastPlain = 0;
  let drewLine = false;
  const text = (p: RunProgress): string => {
    const c = p.counts;
    return `page ${p.pages}: read ${c.read}, created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, unchanged ${c.unchanged}, failed ${c.failed}`;
  };
  return {
    update(p) {
      if (stream.isTTY === true) {
        stream.write(`\r\u001b[2K${text(p)}`);
        drewLine = true;
      } else if (now() - lastPlain >= PLAIN_INTERVAL_MS) {
        lastPlain = now();
        stream.write(`progress ${text(p)}\n`);
      }
    },
    done() {
      if (drewLine) stream.write('\n');
      drewLine = false;
    },
  };
}
