import { isConfigError } from '../../config/errors.js';
import { isLmsRequestError } from '../../lms/http/errors.js';
import { createAdapter } from '../../lms/createAdapter.js';
import { resultOf, skipped, type DoctorCheck } from '../context.js';

/** Enough records to find `--learner` among, few enough to stay quick. */
const PAGE_SIZE = 50;

/** The LMS adapter signs in and reads one page of changes; nothing is written or saved. */
export const lmsCheck: DoctorCheck = {
  id: 'lms',
  title: 'LMS adapter signs in and reads one page',
  async run(context) {
    const config = context.facts.config;
    if (config === undefined) return skipped(this, 'the settings are invalid');
    const name = config.lms.adapter;
    try {
      const adapter = createAdapter(config, context.options.cwd);
      const pages = adapter.listChanges(context.options.abortSignal !== undefined ? { abortSignal: context.options.abortSignal } : {}).byPage({ maxPageSize: PAGE_SIZE });
      const first = await pages.next();
      // Stop the listing: one page is the whole check.
      await pages.return?.();
      const items = first.done === true ? [] : first.value.items;
      context.facts.lmsItems = items;
      const invalid = items.filter((i) => i.kind === 'invalid').length;
      if (items.length === 0) return resultOf(this, 'warn', `the ${name} adapter answered, but its first page is empty`, name === 'file' ? 'check LMS_FILE_PATH names the export the LMS writes' : 'check the LMS has enrollments for the configured courses (LMS_COURSE_IDS, if set)');
      return resultOf(this, 'pass', `the ${name} adapter read ${items.length} record${items.length === 1 ? '' : 's'}${invalid > 0 ? ` (${invalid} invalid: \`viva-sync sync --dry-run\` names them)` : ''}`);
    } catch (err) {
      if (isConfigError(err)) return resultOf(this, 'fail', err.message, `set ${err.problems.map((p) => p.setting).join(', ')} as docs/adapters describes`);
      if (isLmsRequestError(err)) {
        const refused = err.statusCode === 401 || err.statusCode === 403;
        const fix =
          err.setting !== undefined
            ? `check ${err.setting} (docs/adapters/${name}.md)`
            : refused
              ? `the LMS refused the credentials: check LMS_TOKEN, or LMS_CLIENT_ID / LMS_CLIENT_SECRET (docs/adapters/${name}.md)`
              : `check LMS_BASE_URL and that the LMS is reachable from here (docs/adapters/${name}.md)`;
        return resultOf(this, 'fail', `${err.operation} answered ${err.statusCode === -1 ? 'nothing (network)' : err.statusCode} ${err.code}: ${err.message}`, fix);
      }
      const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      return resultOf(this, 'fail', `the ${name} adapter could not read: ${message}`, name === 'file' ? 'check LMS_FILE_PATH exists and is readable by the app' : `check the LMS_* settings (docs/adapters/${name}.md)`);
    }
  },
};
