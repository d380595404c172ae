/**
 * The claims of an access token that say what the app may do, read without verifying the
 * signature (Graph verifies it; the doctor only reports). Never returns or logs the token.
 */
export interface TokenClaims {
  /** Application roles (app-only permissions) granted with admin consent. */
  readonly roles: readonly string[];
  /** Delegated scopes, when a user's token was used by mistake. */
  readonly scopes: readonly string[];
  readonly audience?: string;
  readonly tenantId?: string;
  readonly appId?: string;
  /** Epoch seconds. */
  readonly expiresAt?: number;
}

/** Undefined when the token is not a JWT (a local simulator's static token). */
export function readTokenClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null) return undefined;
  const claims = payload as Record<string, unknown>;
  const text = (name: string): string | undefined => (typeof claims[name] === 'string' ? claims[name] : undefined);
  const roles = Array.isArray(claims['roles']) ? claims['roles'].filter((r): r is string => typeof r === 'string') : [];
  const scp = text('scp');
  const aud = text('aud');
  const tid = text('tid');
  const appId = text('appid') ?? text('azp');
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] : undefined;
  return {
    roles,
    scopes: scp === undefined ? [] : scp.split(' ').filter((s) => s !== ''),
    ...(aud !== undefined ? { audience: aud } : {}),
    ...(tid !== undefined ? { tenantId: tid } : {}),
    ...(appId !== undefined ? { appId } : {}),
    ...(exp !== undefined ? { expiresAt: exp } : {}),
  };
}

/** The application roles the connector needs (infra/grant-graph-permissions.sh grants them). */
export const REQUIRED_GRAPH_ROLES = ['LearningContent.ReadWrite.All', 'LearningAssignedCourse.ReadWrite.All', 'LearningSelfInitiatedCourse.ReadWrite.All', 'User.Read.All'] as const;
