import { loadConfig } from '../src/config/loadConfig.js';
import { createAdapter } from '../src/lms/createAdapter.js';

/**
 * Reads the export LMS_FILE_PATH names (a local file or a Blob Storage URL) the way a sync pass
 * does (list, spool, index, read every page), in its own process so that its peak memory is its
 * own. Prints one JSON line: records read, refused, wall time and peak RSS.
 */
const started = Date.now();
const config = loadConfig(process.env, { cwd: process.cwd() });
const adapter = createAdapter(config, process.cwd());
let records = 0;
let invalid = 0;
let pages = 0;
for await (const page of adapter.listChanges().byPage({ maxPageSize: 200 })) {
  pages += 1;
  for (const item of page.items) {
    if (item.kind === 'record') records += 1;
    else invalid += 1;
  }
}
process.stdout.write(`${JSON.stringify({ records, invalid, pages, wallMs: Date.now() - started, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
