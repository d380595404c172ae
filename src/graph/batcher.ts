import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphRequestError, parseRetryAfter } from './errors.js';
import type { RequestTimeouts } from './requestTimeouts.js';

/** One request inside a JSON batch: the URL is relative to the version root ("/users/…"). */
export interface BatchStep {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Pending extends BatchStep {
  readonly resolve: (body: unknown) => void;
  readonly reject: (err: unknown) => void;
  readonly operation: string;
}

interface BatchResponse {
  readonly id: string;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

const GATHER_MS = 5;

/** Graph accepts at most 20 requests in one $batch. */
export const MAX_BATCH_SIZE = 20;

/**
 * Gathers the requests that arrive together into `POST /$batch` envelopes (built by hand:
 * the SDK's BatchRequestContent mangles URLs on Node 20, reference/azure-platform.md §3.5).
 * Each request still succeeds or fails on its own: a 429 inside a batch rejects that request
 * only, with its own Retry-After, and the caller's retry loop sends it again.
 */
export class GraphBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  batchesSent = 0;

  constructor(
    private readonly client: Client,
    private readonly apiVersion: string,
    private readonly maxSize: number,
    /** Envelopes time out like single requests (GRAPH_REQUEST_TIMEOUT_SECONDS). */
    private readonly timeouts?: RequestTimeouts,
    /**
     * Sends a request on its own: a lone request gains nothing from an envelope and costs one
     * more HTTP request (under a rate limit, requests come one token at a time, so most would).
     */
    private readonly sendAlone?: (step: BatchStep) => Promise<unknown>,
  ) {}

  send(step: BatchStep, operation: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...step, resolve, reject, operation });
      if (this.queue.length >= this.maxSize) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // Let the requests issued in the next few milliseconds join the envelope.
        setTimeout(() => this.flush(), GATHER_MS);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const steps = this.queue.splice(0, this.maxSize);
      const [only] = steps;
      if (steps.length === 1 && only !== undefined && this.sendAlone !== undefined) this.sendAlone(only).then(only.resolve, only.reject);
      else void this.post(steps);
    }
  }

  private async post(steps: readonly Pending[]): Promise<void> {
    const requests = steps.map((step, index) => ({
      id: String(index + 1),
      method: step.method,
      url: step.url,
      ...(step.body !== undefined ? { body: step.body, headers: { 'Content-Type': 'application/json', ...step.headers } } : step.headers !== undefined ? { headers: step.headers } : {}),
    }));
    this.batchesSent += 1;
    let envelope: { responses?: BatchResponse[] };
    try {
      const request = this.client.api('/$batch').version(this.apiVersion);
      if (this.timeouts !== undefined) request.option('signal', this.timeouts.signal(undefined));
      envelope = (await request.post({ requests })) as { responses?: BatchResponse[] };
    } catch (err) {
      // The whole envelope failed (network, 5xx, 429 on the envelope): every request fails alike.
      for (const step of steps) step.reject(err);
      return;
    }
    const byId = new Map((envelope.responses ?? []).map((r) => [r.id, r]));
    steps.forEach((step, index) => {
      const response = byId.get(String(index + 1));
      if (response === undefined) {
        step.reject(new GraphRequestError({ statusCode: -1, code: 'batchResponseMissing', message: 'The $batch response has no answer for this request.', operation: step.operation }));
      } else if (response.status >= 200 && response.status < 300) {
        step.resolve(response.body);
      } else {
        step.reject(subResponseError(response, step.operation));
      }
    });
  }
}

function subResponseError(response: BatchResponse, operation: string): GraphRequestError {
  const error = (response.body as { error?: { code?: string; message?: string; innerError?: { 'request-id'?: string } } } | undefined)?.error;
  const header = Object.entries(response.headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  const message = error?.message ?? `HTTP ${response.status}`;
  const retryAfterMs = parseRetryAfter(header, message);
  const requestId = error?.innerError?.['request-id'];
  return new GraphRequestError({
    statusCode: response.status,
    code: error?.code ?? 'unknown',
    message,
    operation,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
  });
}
