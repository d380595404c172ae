import type { TokenCredential } from '@azure/core-auth';
import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { GraphAuth } from '../config/loadConfig.js';

/** The credential for GRAPH_AUTH. `static-token` is only ever accepted for loopback simulators (checked in config). */
export function createGraphCredential(auth: GraphAuth): TokenCredential {
  switch (auth.kind) {
    case 'managed-identity':
      return auth.clientId === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId: auth.clientId });
    case 'client-secret':
      return new ClientSecretCredential(auth.tenantId, auth.clientId, auth.clientSecret);
    case 'default':
      return new DefaultAzureCredential();
    case 'static-token':
      return staticTokenCredential(auth.token);
  }
}

export function staticTokenCredential(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}
