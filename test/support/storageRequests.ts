import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** One request the table SDK sent from this process: its method, and its last path segment without the table prefix (`Ledger()`, `Lease(PartitionKey='lease',RowKey='sync')`). */
export interface StorageRequest {
  readonly method: string;
  readonly path: string;
}

const CHANNEL = 'http.client.request.start';

/**
 * Records the storage requests this process sends to tables whose names start with `tablePrefix`
 * (the test's own tables on the shared Azurite), as Node's HTTP client publishes them, until
 * `stop()`. The table SDK sends over node:http; Graph requests (fetch) are not seen here.
 */
export function recordStorageRequests(tablePrefix: string): { readonly requests: StorageRequest[]; stop(): void } {
  const requests: StorageRequest[] = [];
  const onStart = (message: unknown): void => {
    const { request } = message as { request: ClientRequest };
    const last = (request.path.split('?')[0] ?? '').split('/').pop() ?? '';
    // Table creation (POST /Tables) names the table in its body, so it is not attributed here.
    if (last.startsWith(tablePrefix)) requests.push({ method: request.method, path: last.slice(tablePrefix.length) });
    else if (last === '$batch') requests.push({ method: request.method, path: last });
  };
  subscribe(CHANNEL, onStart);
  return { requests, stop: () => unsubscribe(CHANNEL, onStart) };
}
