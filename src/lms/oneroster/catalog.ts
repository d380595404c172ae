/**
 * The OneRoster course catalog. A Viva Learning course is a OneRoster class (the enrollments'
 * `course.id` is the class sourcedId), enriched by its course: every class listed, those
 * `tobedeleted` retired, subjects (class and course) as tags. REST reads `classes` and
 * `courses` whole; a CSV bundle reads classes.csv and courses.csv. A listing is complete when
 * it holds every class: always over REST, and for a bundle whose manifest says
 * `file.classes,bulk` (a delta bundle lists changes only, so absence retires nothing).
 */
import { join } from 'node:path';
import { catalogItemOf, catalogPages, pagedCatalog } from '../catalogListing.js';
import type { CatalogItem, ListCatalogOptions, OperationOptions, PagedCatalog } from '../types.js';
import { csvRows, readManifest } from './csvBundle.js';
import { lenientDateTime, statusOf } from './model.js';
import type { OneRosterClient } from './restClient.js';

type Obj = Record<string, unknown>;
export type CourseUrl = (classSourcedId: string, courseSourcedId: string | undefined) => string;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** A GUIDRef (`{ sourcedId }`, REST) or a plain id column (CSV). */
function refOf(value: unknown, column: unknown): string | undefined {
  return isObj(value) ? text(value['sourcedId']) : text(column);
}

/** A list: a JSON array (REST) or a comma-separated field (CSV). */
function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => (typeof v === 'string' && v.trim() !== '' ? [v.trim()] : []));
  return typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter((v) => v !== '') : [];
}

/** One class (and its course, when known) as a catalog row; pure. */
export function classCatalogItem(klass: Obj, course: Obj | undefined, courseUrl: CourseUrl, position: string): CatalogItem {
  const sourcedId = text(klass['sourcedId']) ?? '';
  const title = text(klass['title']);
  const classCode = text(klass['classCode']);
  const courseId = refOf(klass['course'], klass['courseSourcedId']);
  const tags = [...new Set([...listOf(klass['subjects']), ...(course !== undefined ? listOf(course['subjects']) : [])])];
  const updatedAt = lenientDateTime(klass['dateLastModified']);
  const courseTitle = course !== undefined ? text(course['title']) : undefined;
  return catalogItemOf(
    {
      id: sourcedId,
      title: title ?? classCode ?? sourcedId,
      url: sourcedId === '' ? '' : courseUrl(sourcedId, courseId),
      ...(classCode !== undefined && title !== undefined ? { description: courseTitle !== undefined && courseTitle !== title ? `${classCode} (${courseTitle})` : classCode } : {}),
      ...(tags.length > 0 ? { additionalTags: tags } : {}),
      format: 'Course',
      active: statusOf(klass['status']) === 'active' && (course === undefined || statusOf(course['status']) === 'active'),
      ...(updatedAt !== undefined ? { updatedAt } : {}),
    },
    position,
  );
}

function cursorOf(items: readonly CatalogItem[]): string | undefined {
  let cursor: string | undefined;
  for (const item of items) if (item.kind === 'course' && item.course.updatedAt !== undefined && (cursor === undefined || item.course.updatedAt > cursor)) cursor = item.course.updatedAt;
  return cursor;
}

function listed(complete: boolean, read: () => Promise<CatalogItem[]>): PagedCatalog {
  let items: Promise<CatalogItem[]> | undefined;
  return pagedCatalog(complete, (settings) => {
    items ??= read();
    return (async function* () {
      const all = await items;
      yield* catalogPages(all, cursorOf(all), settings);
    })();
  });
}

export function listRestCatalog(client: OneRosterClient, courseUrl: CourseUrl, options: ListCatalogOptions): PagedCatalog {
  return listed(true, async () => {
    const opts: OperationOptions = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
    const courses = new Map<string, Obj>();
    for await (const course of client.all(client.url('rostering', 'courses'), 'courses', 100, opts)) {
      if (isObj(course) && text(course['sourcedId']) !== undefined) courses.set(text(course['sourcedId']) as string, course);
    }
    const items: CatalogItem[] = [];
    for await (const klass of client.all(client.url('rostering', 'classes'), 'classes', 100, opts)) {
      if (!isObj(klass)) continue;
      const courseId = refOf(klass['course'], klass['courseSourcedId']);
      items.push(classCatalogItem(klass, courseId === undefined ? undefined : courses.get(courseId), courseUrl, `oneroster class ${text(klass['sourcedId']) ?? '?'}`));
    }
    return items;
  });
}

export function listCsvCatalog(folder: string, courseUrl: CourseUrl, options: ListCatalogOptions): PagedCatalog {
  const manifest = readManifest(folder);
  const mode = manifest.files.get('classes');
  if (mode === undefined || mode === 'absent') return listed(false, () => Promise.resolve([]));
  return listed(mode === 'bulk', async () => {
    const courses = new Map<string, Obj>();
    if (manifest.files.get('courses') === 'bulk' || manifest.files.get('courses') === 'delta') {
      for await (const { row } of csvRows(join(folder, 'courses.csv'), options.abortSignal)) if (text(row['sourcedId']) !== undefined) courses.set(text(row['sourcedId']) as string, row);
    }
    const items: CatalogItem[] = [];
    for await (const { row, line } of csvRows(join(folder, 'classes.csv'), options.abortSignal)) {
      const courseId = text(row['courseSourcedId']);
      items.push(classCatalogItem(row, courseId === undefined ? undefined : courses.get(courseId), courseUrl, `classes.csv line ${line}`));
    }
    return items;
  });
}
