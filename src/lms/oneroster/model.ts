/**
 * OneRoster records as the adapter uses them, read leniently from REST JSON (GUIDRefs,
 * 1.2 and 1.1 shapes) and from CSV rows (…SourcedId columns). Real providers deviate from
 * the spec (numbers for "true"/"false", `inactive`, dates without a zone, d/m/y dates), so
 * these readers accept what they can and leave out what they cannot (pure).
 */
import { normalizeDateTime } from '../../mapping/enrollment.js';

export type OrStatus = 'active' | 'tobedeleted';

export interface OrEnrollment {
  readonly sourcedId: string;
  readonly status: OrStatus;
  /** Normalised ISO; undefined when absent or unreadable (CSV bulk files leave it empty). */
  readonly dateLastModified: string | undefined;
  readonly userSourcedId: string | undefined;
  readonly classSourcedId: string | undefined;
  readonly role: string;
  readonly beginDate: string | undefined;
  readonly endDate: string | undefined;
}

export interface OrUser {
  readonly sourcedId: string;
  readonly status: OrStatus;
  readonly username: string | undefined;
  readonly email: string | undefined;
}

export interface OrClass {
  readonly sourcedId: string;
  readonly status: OrStatus;
  readonly title: string | undefined;
  readonly classCode: string | undefined;
  readonly courseSourcedId: string | undefined;
}

export interface OrLineItem {
  readonly sourcedId: string;
  readonly status: OrStatus;
  readonly dateLastModified: string | undefined;
  readonly classSourcedId: string | undefined;
  readonly assignDate: string | undefined;
  readonly dueDate: string | undefined;
}

export interface OrResult {
  readonly sourcedId: string;
  readonly status: OrStatus;
  readonly dateLastModified: string | undefined;
  readonly lineItemSourcedId: string | undefined;
  readonly studentSourcedId: string | undefined;
  readonly classSourcedId: string | undefined;
  readonly scoreStatus: string | undefined;
  readonly scoreDate: string | undefined;
  /** 1.2: "true" when the work is under way. */
  readonly inProgress: boolean;
}

type Obj = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `active`, or `tobedeleted` (1.0's `inactive` is read as `tobedeleted`, as the spec asks). Empty: active (bulk CSV). */
export function statusOf(value: unknown): OrStatus {
  const status = text(value)?.toLowerCase();
  return status === 'tobedeleted' || status === 'inactive' ? 'tobedeleted' : 'active';
}

/**
 * An ISO 8601 date-time (a date alone is midnight UTC); one without a zone is read as UTC,
 * as OneRoster's dates are. Anything else (1/05/2023: day or month first?) is unreadable.
 */
export function lenientDateTime(value: unknown): string | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  const normalized = normalizeDateTime(raw);
  if (normalized !== undefined) return normalized;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/.test(raw)) return normalizeDateTime(`${raw.replace(' ', 'T')}Z`);
  return undefined;
}

/** A GUIDRef's sourcedId (`{ sourcedId }`), or a plain id. */
function refOf(value: unknown): string | undefined {
  if (isObject(value)) return text(value['sourcedId']);
  return text(value);
}

/** sourcedId and status, which every record has, and what `rest` reads; undefined without a sourcedId. */
function readRecord<R extends object>(json: unknown, rest: (json: Obj) => R): ({ readonly sourcedId: string; readonly status: OrStatus } & R) | undefined {
  if (!isObject(json)) return undefined;
  const sourcedId = text(json['sourcedId']);
  if (sourcedId === undefined) return undefined;
  return { sourcedId, status: statusOf(json['status']), ...rest(json) };
}

export function readEnrollment(json: unknown): OrEnrollment | undefined {
  return readRecord(json, (j) => ({
    // `dataLastModified`: a header typo seen in real 1.2 bundles.
    dateLastModified: lenientDateTime(j['dateLastModified'] ?? j['dataLastModified']),
    userSourcedId: refOf(j['user']) ?? text(j['userSourcedId']),
    classSourcedId: refOf(j['class']) ?? text(j['classSourcedId']),
    role: text(j['role'])?.toLowerCase() ?? '',
    beginDate: lenientDateTime(j['beginDate']),
    endDate: lenientDateTime(j['endDate']),
  }));
}

export function readUser(json: unknown): OrUser | undefined {
  return readRecord(json, (j) => ({ username: text(j['username']), email: text(j['email']) }));
}

export function readClass(json: unknown): OrClass | undefined {
  return readRecord(json, (j) => ({ title: text(j['title']), classCode: text(j['classCode']), courseSourcedId: refOf(j['course']) ?? text(j['courseSourcedId']) }));
}

export function readLineItem(json: unknown): OrLineItem | undefined {
  return readRecord(json, (j) => ({
    dateLastModified: lenientDateTime(j['dateLastModified']),
    classSourcedId: refOf(j['class']) ?? text(j['classSourcedId']),
    assignDate: lenientDateTime(j['assignDate']),
    dueDate: lenientDateTime(j['dueDate']),
  }));
}

export function readResult(json: unknown): OrResult | undefined {
  return readRecord(json, (j) => ({
    dateLastModified: lenientDateTime(j['dateLastModified']),
    lineItemSourcedId: refOf(j['lineItem']) ?? text(j['lineItemSourcedId']),
    // CSV: studentSourcedId (1.2), userSourcedId in some 1.1 producers.
    studentSourcedId: refOf(j['student']) ?? text(j['studentSourcedId']) ?? text(j['userSourcedId']),
    classSourcedId: refOf(j['class']) ?? text(j['classSourcedId']),
    scoreStatus: text(j['scoreStatus'])?.toLowerCase(),
    scoreDate: lenientDateTime(j['scoreDate']),
    inProgress: text(j['inProgress'])?.toLowerCase() === 'true' || j['inProgress'] === true,
  }));
}
