import type { TokenCredential } from '@azure/core-auth';
import type { Config } from '../config/loadConfig.js';
import { createGraphCredential } from './credentials.js';
import { GraphVivaGateway, type GraphGatewayOptions } from './gateway.js';
import { createGraphClient } from './graphClient.js';
import { RequestScheduler, type RequestSchedulerOptions } from './requestScheduler.js';

/**
 * The traffic control for GRAPH_MAX_CONCURRENCY / GRAPH_MAX_RPS / GRAPH_BATCH_SIZE. Make one per
 * process: what it learns of Graph's limits carries over from run to run.
 */
export function schedulerFor(graph: Config['graph'], extra: Partial<RequestSchedulerOptions> = {}): RequestScheduler {
  return new RequestScheduler({
    // Requests waiting inside a JSON batch hold a slot too.
    maxConcurrency: graph.maxConcurrency * graph.batchSize,
    initialConcurrency: graph.initialConcurrency * graph.batchSize,
    ...(graph.maxRequestsPerSecond !== undefined ? { maxRequestsPerSecond: graph.maxRequestsPerSecond } : {}),
    ...extra,
  });
}

/** The Viva Learning gateway for these settings, over one Graph client. */
export function gatewayFor(config: Config, scheduler: RequestScheduler, credential?: TokenCredential, extra: Partial<GraphGatewayOptions> = {}): GraphVivaGateway {
  return new GraphVivaGateway({
    client: createGraphClient({ baseUrl: config.graph.baseUrl, credential: credential ?? createGraphCredential(config.graph.auth) }),
    providerId: config.providerId,
    apiVersion: config.graph.apiVersion,
    scheduler,
    batchSize: config.graph.batchSize,
    requestTimeoutMs: config.graph.requestTimeoutSeconds * 1000,
    ...extra,
  });
}
