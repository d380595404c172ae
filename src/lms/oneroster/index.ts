/**
 * The `oneroster` adapter: 1EdTech OneRoster 1.2 (and 1.1 where it differs) over REST, or a
 * OneRoster CSV bundle in a folder (docs/adapters/oneroster.md).
 *
 * Each student enrollment is one canonical enrollment (enrollmentId = its sourcedId): the
 * learner from the user record (email, or a username that is an address), the course from
 * the class (title; URL from LMS_ONEROSTER_COURSE_URL), source `assigned` with the
 * configured assignmentType, progress from the Gradebook (mapping.ts), and `tobedeleted`
 * (the enrollment's or its class's) as a withdrawal. REST listing: rest.ts; CSV: csvBundle.ts.
 */
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { ApiAdapterOptions } from '../adapterSettings.js';
import type { ChangePage, LmsAdapter, ListChangesOptions, PageSettings, PagedCatalog, PagedChanges, SourceItem } from '../types.js';
import { getCsvEnrollment, listCsvPages, readManifest } from './csvBundle.js';
import { getRestEnrollment, listRestPages, type RestContext } from './rest.js';
import { OneRosterClient } from './restClient.js';
import { listCsvCatalog, listRestCatalog } from './catalog.js';
import { pagedCatalog } from '../catalogListing.js';
import { readOneRosterOptions } from './settings.js';

export { ONEROSTER_SETTINGS, readOneRosterOptions } from './settings.js';
export type { OneRosterOptions } from './settings.js';

/** LMS_ADAPTER is this adapter's name. */
export type OneRosterSettings = ApiLmsSettings;

export interface OneRosterAdapterOptions extends ApiAdapterOptions {
  /** The clock (the results stream's first mark); default Date.now. */
  readonly now?: () => number;
}

function paged(byPage: (settings?: PageSettings) => AsyncGenerator<ChangePage>): PagedChanges {
  async function* items(): AsyncGenerator<SourceItem> {
    for await (const page of byPage()) yield* page.items;
  }
  return Object.assign(items(), { byPage });
}

export function createOneRosterAdapter(options: OneRosterAdapterOptions): LmsAdapter {
  const parsed = readOneRosterOptions(options.settings, options.cwd);
  const { lookbackMs } = options;
  if (!Number.isFinite(lookbackMs) || lookbackMs < 0) throw new RangeError(`lookbackMs must be a non-negative number (got ${lookbackMs})`);
  if (parsed.mode === 'csv') {
    // Fails now, naming LMS_FILE_PATH, when the bundle cannot be used.
    readManifest(parsed.folder);
    return {
      name: 'oneroster',
      listChanges: (listOptions: ListChangesOptions = {}) => paged((settings = {}) => listCsvPages(parsed, lookbackMs, listOptions, settings)),
      getEnrollment: (enrollmentId, getOptions = {}) => getCsvEnrollment(parsed, enrollmentId, getOptions),
      listCatalog: (catalogOptions = {}) => inScope(listCsvCatalog(parsed.folder, parsed.courseUrl, catalogOptions), parsed.classIds),
    };
  }
  const client = new OneRosterClient({
    baseUrl: parsed.baseUrl,
    version: parsed.version,
    tokenUrl: parsed.tokenUrl,
    clientId: parsed.clientId,
    clientSecret: parsed.clientSecret,
    scope: parsed.scope,
    ...(options.http !== undefined ? { http: options.http } : {}),
  });
  const context: RestContext = { client, options: parsed, lookbackMs, now: options.now ?? Date.now };
  return {
    name: 'oneroster',
    listChanges: (listOptions: ListChangesOptions = {}) => paged((settings = {}) => listRestPages(context, listOptions, settings)),
    getEnrollment: (enrollmentId, getOptions = {}) => getRestEnrollment(context, enrollmentId, getOptions),
    listCatalog: (catalogOptions = {}) => inScope(listRestCatalog(client, parsed.courseUrl, catalogOptions), parsed.classIds),
  };
}

/** LMS_COURSE_IDS (class sourcedIds) limits the catalog as it limits the enrollments. */
function inScope(listing: PagedCatalog, classIds: ReadonlySet<string> | readonly string[] | undefined): PagedCatalog {
  if (classIds === undefined) return listing;
  const wanted = new Set(classIds);
  return pagedCatalog(listing.complete, (settings) =>
    (async function* () {
      for await (const page of listing.byPage(settings)) yield { ...page, items: page.items.filter((i) => (i.kind === 'course' ? wanted.has(i.course.id) : i.id === undefined || wanted.has(i.id))) };
    })(),
  );
}
