import type { TokenCredential } from '@azure/core-auth';
import { Client, HTTPMessageHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';

/**
 * Sets the bearer token on requests to the configured Graph origin only. It replaces the
 * SDK's AuthenticationHandler, which drops the header for any host that is not Graph's
 * (so a loopback simulator would receive no token).
 */
class BearerTokenMiddleware implements Middleware {
  private next: Middleware | undefined;
  constructor(
    private readonly credential: TokenCredential,
    private readonly scope: string,
    private readonly origin: string,
  ) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    if (new URL(url).origin === this.origin) {
      const token = await this.credential.getToken(this.scope);
      if (token === null) throw new Error('The Graph credential returned no token.');
      const headers = new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]);
      headers.set('Authorization', `Bearer ${token.token}`);
      context.options = { ...context.options, headers: Object.fromEntries(headers.entries()) };
    }
    if (this.next === undefined) throw new Error('BearerTokenMiddleware must not be last in the chain.');
    await this.next.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

export interface GraphClientOptions {
  readonly baseUrl: string;
  readonly credential: TokenCredential;
}

/**
 * A Graph client whose middleware chain has no RetryHandler: the gateway's p-retry loop is
 * the one retry layer, so retries never multiply (reference/azure-platform.md §3.3).
 */
export function createGraphClient(options: GraphClientOptions): Client {
  const origin = new URL(options.baseUrl).origin;
  return Client.initWithMiddleware({
    baseUrl: `${options.baseUrl.replace(/\/+$/, '')}/`,
    middleware: [new BearerTokenMiddleware(options.credential, graphScope(options.baseUrl), origin), new HTTPMessageHandler()],
  });
}

/** The token scope for this Graph base URL. Tokens are for Graph itself; a simulator accepts whatever its static token is. */
export function graphScope(baseUrl: string): string {
  const origin = new URL(baseUrl).origin;
  return origin === 'https://graph.microsoft.com' ? 'https://graph.microsoft.com/.default' : `${origin}/.default`;
}
