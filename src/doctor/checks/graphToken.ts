import { createGraphCredential } from '../../graph/credentials.js';
import { gatewayFor, schedulerFor } from '../../graph/fromConfig.js';
import { REQUIRED_GRAPH_ROLES, readTokenClaims } from '../../graph/tokenClaims.js';
import { resultOf, skipped, type DoctorCheck } from '../context.js';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/** A token for Graph with the app's own credential (GRAPH_AUTH). */
export const graphTokenCheck: DoctorCheck = {
  id: 'graphToken',
  title: 'A Graph token can be acquired',
  async run(context) {
    const config = context.facts.config;
    if (config === undefined) return skipped(this, 'the settings are invalid');
    const credential = createGraphCredential(config.graph.auth);
    try {
      const token = await credential.getToken(GRAPH_SCOPE, context.options.abortSignal !== undefined ? { abortSignal: context.options.abortSignal } : {});
      if (token === null || token.token === '') throw new Error('the credential returned no token');
      context.facts.token = token.token;
      // Few retries: the doctor reports what Graph answers, it does not wait out an outage.
      context.facts.gateway = gatewayFor(config, schedulerFor(config.graph), credential, { maxRetries: 2 });
      return resultOf(this, 'pass', `GRAPH_AUTH=${config.graph.auth.kind} returned a token for Microsoft Graph`);
    } catch (err) {
      // Azure Identity messages name the credential and the cause, never the secret.
      const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      const fix =
        config.graph.auth.kind === 'client-secret'
          ? 'check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (an expired secret: Entra admin center > App registrations > Certificates & secrets)'
          : config.graph.auth.kind === 'managed-identity'
            ? 'run where the managed identity exists (the Function App), or set GRAPH_AUTH=default and sign in with `az login` to check from a workstation'
            : 'sign in with `az login` (DefaultAzureCredential), or set GRAPH_AUTH and its credential settings';
      return resultOf(this, 'fail', `GRAPH_AUTH=${config.graph.auth.kind} could not get a token: ${message}`, fix);
    }
  },
};

/** The token's application roles against the four the connector needs. */
export const graphRolesCheck: DoctorCheck = {
  id: 'graphRoles',
  title: 'The token carries the application permissions',
  async run(context) {
    const token = context.facts.token;
    if (token === undefined) return skipped(this, 'no Graph token');
    const claims = readTokenClaims(token);
    if (claims === undefined) {
      // A loopback simulator's static token has no claims; the probes below prove the permissions all the same.
      if (context.facts.config?.graph.auth.kind === 'static-token') return resultOf(this, 'skip', 'a local simulator\'s static token names no roles; the probes below check the permissions');
      return resultOf(this, 'warn', 'the token is not a JWT, so its roles cannot be read', 'check the app\'s permissions in Entra admin center > Enterprise applications > the app > Permissions');
    }
    if (claims.roles.length === 0 && claims.scopes.length > 0) {
      return resultOf(this, 'fail', `the token is a user's (delegated scopes ${claims.scopes.join(' ')}), not the app's: course activities are application-only`, 'use GRAPH_AUTH=managed-identity or client-secret (the app\'s own identity) for the sync');
    }
    const missing = REQUIRED_GRAPH_ROLES.filter((role) => !claims.roles.includes(role));
    if (missing.length > 0) {
      return resultOf(
        this,
        'fail',
        `the token lacks ${missing.join(', ')} (it has ${claims.roles.length === 0 ? 'no application roles' : claims.roles.join(', ')})`,
        'run `infra/grant-graph-permissions.sh` as an administrator who may grant admin consent (or Entra admin center > Enterprise applications > the app > Permissions > Grant admin consent); a new token carries them within minutes',
      );
    }
    return resultOf(this, 'pass', `the token carries ${REQUIRED_GRAPH_ROLES.join(', ')}`);
  },
};
