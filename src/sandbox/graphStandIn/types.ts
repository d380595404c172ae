/**
 * Public types of the local Viva Learning (Microsoft Graph) stand-in.
 *
 * The record types describe the JSON the stand-in stores and returns, shaped as the
 * employee-learning documentation and metadata show it (see shared/reference/graph-learning-*.md
 * and graph-learning-csdl.xml). Every property Graph would return is present; absent optional
 * values are `null`, as Graph serializes them.
 */

/** A JSON value as parsed from a request body. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** A JSON object as parsed from a request body. */
export interface JsonObject {
  [key: string]: JsonValue;
}

// ---------------------------------------------------------------------------------------------
// Seeds (what tests and the sandbox put in)
// ---------------------------------------------------------------------------------------------

/** An Entra user the stand-in knows. `licensed` (default true) means: has a Viva Learning licence. */
export interface StandInUser {
  id: string;
  userPrincipalName: string;
  mail?: string;
  employeeId?: string;
  displayName?: string;
  licensed?: boolean;
}

/**
 * A learningProvider registration (its `id` is the registrationId). The four logo URLs are
 * required by Graph on create; when seeding they default to a placeholder image URL.
 */
export interface StandInProvider {
  id: string;
  displayName: string;
  isCourseActivitySyncEnabled: boolean;
  longLogoWebUrlForDarkTheme?: string;
  longLogoWebUrlForLightTheme?: string;
  squareLogoWebUrlForDarkTheme?: string;
  squareLogoWebUrlForLightTheme?: string;
  loginWebUrl?: string;
}

/** A learningContent to seed with `GraphStandIn.addContent` (e.g. to reproduce documented ids). */
export interface StandInContent {
  /** Viva id; defaults to the stand-in's stable GUID for (provider, externalId). */
  id?: string;
  externalId: string;
  title: string;
  contentWebUrl: string;
  languageTag: string;
  description?: string;
  sourceName?: string;
  thumbnailWebUrl?: string;
  numberOfPages?: number;
  duration?: string;
  format?: string;
  level?: ContentLevel;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  contributors?: string[];
  additionalTags?: string[];
  skillTags?: string[];
  isActive?: boolean;
  isPremium?: boolean;
  isSearchable?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** What a targeted fault decision may return. */
export type FaultKind =
  | 'throttle' // 429 tooManyRequests, Retry-After as configured
  | 'unavailable' // 503 serviceUnavailable, Retry-After as configured
  | 'serverError' // 500 internalServerError
  | 'reset' // the socket is destroyed without a response (no state change)
  | 'hang' // never answered until stop() (no state change)
  /** Stand-in extension: the request IS processed (state changes), then the socket is destroyed. */
  | 'lostResponse';

/** The request a `decide` callback sees. */
export interface FaultRequest {
  method: string;
  /** The path with its version segment, as received (still percent-encoded), without the query. */
  path: string;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /** 0-based position among the requests evaluated for faults since the faults were (re)set. */
  index: number;
  /** Stand-in extension: true for a $batch sub-request. */
  batched: boolean;
}

export interface FaultOptions {
  /** Seed of the deterministic PRNG used by the random faults (default 42). */
  seed?: number;
  /** Fraction of requests answered 429 at random (0..1). */
  throttleRate?: number;
  /** Fraction answered 503 at random. */
  unavailableRate?: number;
  /** Fraction answered 500 at random. */
  serverErrorRate?: number;
  /** Fraction whose socket is destroyed without a response. */
  resetRate?: number;
  /** Retry-After used by random (and decided) 429/503 (default 1). */
  retryAfterSeconds?: number;
  /** Where the wait is stated (default 'both'); also applies to rate-limit 429s. */
  retryAfterStyle?: 'header' | 'body-minutes' | 'both' | 'none';
  /** Decide a fault per request (for targeted tests); return undefined for none. */
  decide?: (req: FaultRequest) => FaultKind | undefined;
}

export interface RateLimitOptions {
  requestsPerSecond: number;
  /** Bucket capacity (default: requestsPerSecond, at least 1). */
  burst?: number;
}

export interface GraphStandInOptions {
  /** Bearer token required on every request (default 'sandbox-token'). */
  token?: string;
  /** Added before each response (default 0). */
  latencyMs?: number;
  /** Token bucket over ALL requests (each $batch sub-request counts as one). */
  rateLimit?: RateLimitOptions;
  faults?: FaultOptions;
  providers?: StandInProvider[];
  users?: StandInUser[];
  /**
   * The signed-in caller lacks a Viva licence or the Knowledge Administrator role: creating a
   * learning provider answers 403 "adequate service plan" (graph-learning-api.md §1.1, §4.1).
   */
  refuseProviderRegistration?: boolean;
  /**
   * Default true: request bodies are checked against Graph's metadata and documentation
   * (validate.ts). False accepts any well-formed body; it exists only so that a test can prove the
   * conformance tests fail without the validator. Never set it elsewhere.
   */
  validateBodies?: boolean;
  /**
   * Sandbox only: called when a user lookup finds nobody; the user it returns is added to the
   * tenant (so `npm start` works with any LMS), undefined keeps the user unknown.
   */
  provisionUser?: (lookup: { property: 'id' | 'userPrincipalName' | 'mail' | 'employeeId'; value: string }) => StandInUser | undefined;
}

/** One entry of the request log. */
export interface RecordedRequest {
  method: string;
  /** Path with version segment, as received (percent-encoded), without query string. */
  path: string;
  /** HTTP status answered; 0 when the socket was destroyed (reset / lostResponse). */
  status: number;
  /** Date.now() when the answer was decided. */
  at: number;
  /** True for a $batch sub-request (the envelope itself is logged with batched=false). */
  batched: boolean;
}

export interface StandInStats {
  /** Log entries (top-level requests, $batch envelopes and sub-requests). */
  total: number;
  byStatus: Record<number, number>;
  /** Answers with status 429. */
  throttled: number;
  /** 2xx answers to POST/PATCH/PUT/DELETE (sub-requests included, $batch envelopes excluded). */
  writes: number;
}

// ---------------------------------------------------------------------------------------------
// Records (Graph JSON)
// ---------------------------------------------------------------------------------------------

export type CourseStatus = 'notStarted' | 'inProgress' | 'completed';
export type SelfInitiatedCourseStatus = 'inProgress' | 'completed';
/** assignmentType values a client may send (the create page lists required / recommended). */
export type AssignmentType = 'required' | 'recommended';
/** graph.level (OData serializes the member name, so stored in canonical case). */
export type ContentLevel = 'beginner' | 'intermediate' | 'advanced';
export type BodyType = 'text' | 'html';

/** graph.dateTimeTimeZone */
export interface DateTimeTimeZoneRecord {
  dateTime: string;
  timeZone: string | null;
}

/** graph.itemBody */
export interface ItemBodyRecord {
  contentType: BodyType | null;
  content: string | null;
}

interface ActivityRecordBase {
  id: string;
  /** Spelled as the documentation's bodies spell it (metadata: externalcourseActivityId). */
  externalCourseActivityId: string | null;
  learningContentId: string;
  /** Always the registrationId of the path the activity was created under. */
  learningProviderId: string;
  learnerUserId: string;
  completedDateTime: string | null;
  completionPercentage: number | null;
}

export interface LearningAssignmentRecord extends ActivityRecordBase {
  '@odata.type': '#microsoft.graph.learningAssignment';
  status: CourseStatus;
  assignmentType: AssignmentType;
  assignedDateTime: string | null;
  assignerUserId: string | null;
  dueDateTime: DateTimeTimeZoneRecord | null;
  notes: ItemBodyRecord | null;
}

export interface LearningSelfInitiatedCourseRecord extends ActivityRecordBase {
  '@odata.type': '#microsoft.graph.learningSelfInitiatedCourse';
  status: SelfInitiatedCourseStatus;
  startedDateTime: string | null;
}

/** A stored learningCourseActivity, without the per-response `@odata.context`. */
export type ActivityRecord = LearningAssignmentRecord | LearningSelfInitiatedCourseRecord;
export type ActivityODataType = ActivityRecord['@odata.type'];

/** A stored learningContent, without the per-response `@odata.context`. */
export interface ContentRecord {
  id: string;
  externalId: string;
  title: string;
  description: string | null;
  contentWebUrl: string;
  sourceName: string | null;
  thumbnailWebUrl: string | null;
  languageTag: string;
  numberOfPages: number | null;
  duration: string | null;
  format: string | null;
  level: ContentLevel | null;
  createdDateTime: string | null;
  lastModifiedDateTime: string | null;
  contributors: string[];
  additionalTags: string[];
  skillTags: string[];
  isActive: boolean;
  isPremium: boolean;
  isSearchable: boolean;
}

/** A stored learningProvider. */
export interface ProviderRecord {
  id: string;
  displayName: string;
  squareLogoWebUrlForDarkTheme: string;
  longLogoWebUrlForDarkTheme: string;
  squareLogoWebUrlForLightTheme: string;
  longLogoWebUrlForLightTheme: string;
  loginWebUrl: string | null;
  isCourseActivitySyncEnabled: boolean;
}

/** A snapshot of the stand-in's data (for the sandbox to persist between runs). */
export interface StandInState {
  version: 1;
  providers: ProviderRecord[];
  contents: { providerId: string; content: ContentRecord }[];
  /** In creation order (which decides the first match of a duplicated externalCourseActivityId). */
  activities: ActivityRecord[];
  users: StandInUser[];
}
