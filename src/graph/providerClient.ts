import type { Client } from '@microsoft/microsoft-graph-client';
import type { GraphApiVersion } from '../config/loadConfig.js';
import { toGraphRequestError } from './gateway.js';
import { pathId } from './odata.js';

/** graph.learningProvider (graph-learning-api.md §3.2). */
export interface LearningProvider {
  readonly id: string;
  readonly displayName: string;
  readonly longLogoWebUrlForDarkTheme: string;
  readonly longLogoWebUrlForLightTheme: string;
  readonly squareLogoWebUrlForDarkTheme: string;
  readonly squareLogoWebUrlForLightTheme: string;
  readonly loginWebUrl?: string | null;
  readonly isCourseActivitySyncEnabled?: boolean;
}

export type LearningProviderFields = Omit<LearningProvider, 'id'>;

const FIELDS = [
  'id',
  'displayName',
  'longLogoWebUrlForDarkTheme',
  'longLogoWebUrlForLightTheme',
  'squareLogoWebUrlForDarkTheme',
  'squareLogoWebUrlForLightTheme',
  'loginWebUrl',
  'isCourseActivitySyncEnabled',
] as const;

/**
 * The provider registration calls (delegated only: the caller's credential must be a signed-in
 * administrator's). Graph's refusals become GraphRequestError, as in the gateway.
 */
export class LearningProviderClient {
  constructor(
    private readonly client: Client,
    private readonly apiVersion: GraphApiVersion,
  ) {}

  private request(id?: string): ReturnType<Client['api']> {
    return this.client.api(`/employeeExperience/learningProviders${id === undefined ? '' : `/${pathId(id)}`}`).version(this.apiVersion);
  }

  /** Undefined when no provider has this id in the tenant. */
  async getProvider(id: string): Promise<LearningProvider | undefined> {
    try {
      return pick(await this.request(id).get());
    } catch (err) {
      const failure = toGraphRequestError(err, 'GET learningProvider');
      if (failure instanceof Error && 'statusCode' in failure && failure.statusCode === 404) return undefined;
      throw failure;
    }
  }

  async createProvider(fields: LearningProviderFields): Promise<LearningProvider> {
    try {
      return pick(await this.request().post(fields));
    } catch (err) {
      throw toGraphRequestError(err, 'POST learningProviders');
    }
  }

  async updateProvider(id: string, fields: Partial<LearningProviderFields>): Promise<void> {
    try {
      await this.request(id).patch(fields);
    } catch (err) {
      throw toGraphRequestError(err, 'PATCH learningProvider');
    }
  }
}

/** The documented fields only (no @odata.context). */
function pick(body: unknown): LearningProvider {
  if (typeof body !== 'object' || body === null || typeof (body as { id?: unknown }).id !== 'string') throw new Error('Graph answered without a learning provider.');
  const source = body as Record<string, unknown>;
  return Object.fromEntries(FIELDS.filter((f) => source[f] !== undefined).map((f) => [f, source[f]])) as unknown as LearningProvider;
}
