import type { Client, GraphError } from '@microsoft/microsoft-graph-client';
import pRetry from 'p-retry';
import type { ActivityBody, LearningContentBody } from '../mapping/graphTypes.js';
import type { LearnerRef } from '../mapping/learnerRef.js';
import { BudgetExhaustedError, classifyGraphFailure, GraphRequestError, isGraphRequestError, parseRetryAfter } from './errors.js';
import { activityCreateBody, activityUpdateBody, contentUpsertBody } from './graphBodies.js';
import { externalIdKey, odataString, pathId } from './odata.js';
import type { RequestScheduler, ScheduledRun } from './requestScheduler.js';
import { GraphBatcher, MAX_BATCH_SIZE } from './batcher.js';
import { RequestTimeouts } from './requestTimeouts.js';

export interface GatewayOperationOptions {
  readonly abortSignal?: AbortSignal;
}

/** What Graph returned for an activity looked up by its external id. */
export interface ExistingActivity {
  readonly id: string;
  readonly '@odata.type'?: string;
  readonly status?: string;
}

/**
 * The Viva Learning operations the engine needs, each named for its idempotency (STYLE.md §3).
 * Implemented over Graph here, and by a recorder for `--dry-run`.
 */
export interface VivaGateway {
  /** PATCH learningContents(externalId=…): creates or replaces; returns Viva's content id. */
  upsertContent(externalId: string, body: LearningContentBody, options?: GatewayOperationOptions): Promise<{ id: string }>;
  /** Undefined when no activity has this externalCourseActivityId. */
  getActivityByExternalId(externalId: string, options?: GatewayOperationOptions): Promise<ExistingActivity | undefined>;
  createActivity(body: ActivityBody, options?: GatewayOperationOptions): Promise<{ id: string }>;
  updateActivity(id: string, body: ActivityBody, options?: GatewayOperationOptions): Promise<void>;
  /** 404 counts as done. */
  deleteActivity(id: string, options?: GatewayOperationOptions): Promise<void>;
  /** The Entra object id, or undefined when no user matches. */
  findUser(ref: LearnerRef, options?: GatewayOperationOptions): Promise<string | undefined>;
}

export interface GatewayStats {
  /** Graph requests sent (each request inside a $batch counts as one). */
  requests: number;
  retries: number;
  throttled: number;
  batches: number;
}

export interface GraphGatewayOptions {
  readonly client: Client;
  readonly providerId: string;
  readonly apiVersion: 'v1.0' | 'beta';
  readonly scheduler: RequestScheduler;
  /** Epoch ms after which no request starts and no retry waits (the run's time budget). */
  readonly deadline?: number;
  /** Gather requests into JSON batches of up to this many (2–20); 0 or 1: one request per call. */
  readonly batchSize?: number;
  readonly maxRetries?: number;
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
  readonly onThrottled?: (info: { statusCode: number; waitMs: number | undefined; operation: string }) => void;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export class GraphVivaGateway implements VivaGateway {
  private readonly counters = { requests: 0, retries: 0, throttled: 0 };
  private readonly providerPath: string;
  private readonly now: () => number;
  private readonly traffic: ScheduledRun;
  private readonly batcher: GraphBatcher | undefined;
  private readonly timeouts: RequestTimeouts;

  constructor(private readonly options: GraphGatewayOptions) {

    this.providerPath = `/employeeExperience/learningProviders/${pathId(options.providerId)}`;
    this.now = options.now ?? Date.now;
    this.traffic = options.scheduler.withDeadline(options.deadline);
    const batchSize = Math.min(options.batchSize ?? 0, MAX_BATCH_SIZE);
    this.timeouts = new RequestTimeouts(options.requestTimeoutMs ?? 30_000);
    this.batcher =
      batchSize > 1 ? new GraphBatcher(options.client, options.apiVersion, batchSize, this.timeouts, (step) => this.sendPlain(step.method, step.url, step.body, undefined, step.headers)) : undefined;
  }

  get stats(): GatewayStats {
    return { ...this.counters, batches: this.batcher?.batchesSent ?? 0 };
  }

  async upsertContent(externalId: string, body: LearningContentBody, options?: GatewayOperationOptions): Promise<{ id: string }> {
    const path = `${this.providerPath}/learningContents(externalId=${externalIdKey(externalId)})`;
    // The key and the body's externalId carry the same (Graph-form) value.
    const result = await this.send<{ id?: string } | undefined>('PATCH', path, 'PATCH learningContents(externalId)', contentUpsertBody(externalId, body), options);
    if (typeof result?.id === 'string') return { id: result.id };
    // 202 is documented with the content in the body; if a service answers without it, read it back.
    const read = await this.send<{ id?: string }>('GET', path, 'GET learningContents(externalId)', undefined, options);
    if (typeof read.id !== 'string') throw new GraphRequestError({ statusCode: 202, code: 'missingId', message: 'The content upsert returned no id.', operation: 'PATCH learningContents' });
    return { id: read.id };
  }

  async getActivityByExternalId(externalId: string, options?: GatewayOperationOptions): Promise<ExistingActivity | undefined> {
    const path = `${this.providerPath}/learningCourseActivities(externalCourseActivityId=${externalIdKey(externalId)})`;
    try {
      const found = await this.send<ExistingActivity>('GET', path, 'GET learningCourseActivities(externalCourseActivityId)', undefined, options);
      return typeof found?.id === 'string' ? found : undefined;
    } catch (err) {
      if (isGraphRequestError(err) && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async createActivity(body: ActivityBody, options?: GatewayOperationOptions): Promise<{ id: string }> {
    // POST is not idempotent: when an attempt's outcome is unknown (no answer, 5xx), the
    // activity may exist already, so look for it before sending the POST again.
    const adoptExisting = async (): Promise<{ id?: string } | undefined> => this.getActivityByExternalId(body.externalCourseActivityId, options);
    const created = await this.send<{ id?: string }>('POST', `${this.providerPath}/learningCourseActivities`, 'POST learningCourseActivities', activityCreateBody(body), options, undefined, adoptExisting);
    if (typeof created?.id !== 'string') throw new GraphRequestError({ statusCode: 201, code: 'missingId', message: 'The created activity has no id.', operation: 'POST learningCourseActivities' });
    return { id: created.id };
  }

  async updateActivity(id: string, body: ActivityBody, options?: GatewayOperationOptions): Promise<void> {
    await this.send('PATCH', `${this.providerPath}/learningCourseActivities/${pathId(id)}`, 'PATCH learningCourseActivities/{id}', activityUpdateBody(body), options);
  }

  async deleteActivity(id: string, options?: GatewayOperationOptions): Promise<void> {
    try {
      await this.send('DELETE', `${this.providerPath}/learningCourseActivities/${pathId(id)}`, 'DELETE learningCourseActivities/{id}', undefined, options);
    } catch (err) {
      if (isGraphRequestError(err) && err.statusCode === 404) return;
      throw err;
    }
  }

  async findUser(ref: LearnerRef, options?: GatewayOperationOptions): Promise<string | undefined> {
    if (ref.match === 'id') return ref.value;
    if (ref.match === 'userPrincipalName') {
      try {
        const user = await this.send<{ id?: string }>('GET', `/users/${pathId(ref.value)}?$select=id`, 'GET users/{upn}', undefined, options);
        return user?.id;
      } catch (err) {
        if (isGraphRequestError(err) && err.statusCode === 404) return undefined;
        throw err;
      }
    }
    const query = new URLSearchParams({ $filter: `${ref.match} eq ${odataString(ref.value)}`, $select: 'id' });
    const headers: Record<string, string> = {};
    if (ref.match === 'employeeId') {
      // employeeId is filterable only as an advanced query.
      query.set('$count', 'true');
      headers['ConsistencyLevel'] = 'eventual';
    }
    const result = await this.send<{ value?: { id?: string }[] }>('GET', `/users?${query.toString()}`, `GET users?$filter=${ref.match}`, undefined, options, headers);
    const matches = (result?.value ?? []).filter((u): u is { id: string } => typeof u.id === 'string');
    if (matches.length > 1) {
      throw new GraphRequestError({ statusCode: 409, code: 'ambiguousLearner', message: `${matches.length} users have this ${ref.match}; set LEARNER_MATCH to a unique property`, operation: 'GET users' });
    }
    return matches[0]?.id;
  }

  /** One request, through the scheduler, inside the single p-retry loop. */
  private async send<T>(
    method: Method,
    path: string,
    operation: string,
    body: unknown,
    options?: GatewayOperationOptions,
    headers?: Record<string, string>,
    /** For requests that must not be repeated blindly: finds what an attempt of unknown outcome did. */
    recover?: () => Promise<T | undefined>,
  ): Promise<T> {
    const signal = options?.abortSignal;
    const { deadline } = this.options;
    const scheduler = this.traffic.scheduler;
    let outcomeUnknown = false;
    return pRetry(
      async () => {
        if (outcomeUnknown && recover !== undefined) {
          const recovered = await recover();
          if (recovered !== undefined) return recovered;
        }
        try {
          const result = await this.traffic.run(() => this.request<T>(method, path, operation, body, signal, headers), signal);
          scheduler.onAccepted();
          return result;
        } catch (err) {
          throw toGraphRequestError(err, operation);
        }
      },
      {
        retries: this.options.maxRetries ?? 5,
        minTimeout: 250,
        maxTimeout: 10_000,
        factor: 2,
        randomize: true,
        ...(signal !== undefined ? { signal } : {}),
        shouldRetry: ({ error }) => classifyGraphFailure(error).retry,
        onFailedAttempt: ({ error, retriesLeft }) => {
          const failure = classifyGraphFailure(error);
          // Not retryable: shouldRetry (called after this) ends the loop with the original error.
          if (!failure.retry) return;
          // 429 and 503 refuse a request before doing it; no answer or another 5xx may come after it was done.
          outcomeUnknown = isGraphRequestError(error) && error.statusCode !== 429 && error.statusCode !== 503;
          if (isGraphRequestError(error) && (error.statusCode === 429 || error.statusCode === 503)) {
            this.counters.throttled += 1;
            scheduler.onThrottled(failure.waitMs);
            this.options.onThrottled?.({ statusCode: error.statusCode, waitMs: failure.waitMs, operation });
          }
          if (retriesLeft <= 0) return;
          const waitMs = failure.waitMs ?? 0;
          if (deadline !== undefined && this.now() + waitMs > deadline) throw new BudgetExhaustedError(waitMs);
          this.counters.retries += 1;
        },
      },
    );
  }

  private async request<T>(method: Method, path: string, operation: string, body: unknown, signal: AbortSignal | undefined, headers?: Record<string, string>): Promise<T> {
    this.counters.requests += 1;
    if (this.batcher !== undefined) {
      return (await this.batcher.send({ method, url: path, ...(body !== undefined ? { body } : {}), ...(headers !== undefined ? { headers } : {}) }, operation)) as T;
    }
    return this.sendPlain<T>(method, path, body, signal, headers);
  }

  /** One request on its own (no envelope). */
  private async sendPlain<T>(method: Method, path: string, body: unknown, signal: AbortSignal | undefined, headers?: Readonly<Record<string, string>>): Promise<T> {
    let request = this.options.client.api(path).version(this.options.apiVersion).option('signal', this.timeouts.signal(signal));
    for (const [name, value] of Object.entries(headers ?? {})) request = request.header(name, value);
    switch (method) {
      case 'GET':
        return (await request.get()) as T;
      case 'POST':
        return (await request.post(body)) as T;
      case 'PATCH':
        return (await request.patch(body)) as T;
      case 'DELETE':
        return (await request.delete()) as T;
    }
  }
}

/** GraphError (or a network failure) → GraphRequestError with the wait the service asked for. */
export function toGraphRequestError(err: unknown, operation: string): unknown {
  if (isGraphRequestError(err) || err instanceof BudgetExhaustedError || (err instanceof Error && err.name === 'AbortError')) return err;
  const graphError = err as Partial<GraphError> & Error;
  if (typeof graphError?.statusCode !== 'number') return err;
  const retryAfter = graphError.headers instanceof Headers ? graphError.headers.get('retry-after') : undefined;
  const retryAfterMs = parseRetryAfter(retryAfter, graphError.message);
  return new GraphRequestError({
    statusCode: graphError.statusCode,
    code: typeof graphError.code === 'string' && graphError.code !== '' ? graphError.code : 'unknown',
    message: graphError.message || 'Graph returned an error without a message.',
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(typeof graphError.requestId === 'string' ? { requestId: graphError.requestId } : {}),
    operation,
  });
}
