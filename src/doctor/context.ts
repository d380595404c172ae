import type { Config } from '../config/loadConfig.js';
import type { GraphVivaGateway } from '../graph/gateway.js';
import type { SourceItem } from '../lms/types.js';
import type { CheckResult, CheckStatus, DoctorCheckId } from './types.js';

export interface DoctorOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** An LMS learner id, e-mail or UPN: resolve it and prove the licence path with a probe activity. */
  readonly learner?: string;
  /** The local clock (tests skew it). */
  readonly now?: () => number;
  readonly abortSignal?: AbortSignal;
}

/** What the checks learn, in order; a later check uses what an earlier one found. */
export interface DoctorFacts {
  config?: Config;
  /** The Graph access token: kept in memory, never printed or stored. */
  token?: string;
  gateway?: GraphVivaGateway;
  /** The provider is registered and course-activity sync is on. */
  providerReady?: boolean;
  /** Viva's id of the probe course. */
  probeContentId?: string;
  /** The first page the LMS answered (for --learner X given as an LMS id). */
  lmsItems?: readonly SourceItem[];
  /** Entra object id of --learner. */
  learnerObjectId?: string;
  /** Graph's Date header and the local time the answer arrived. */
  graphClock?: { readonly serverMs: number; readonly localMs: number };
}

export interface DoctorContext {
  readonly options: DoctorOptions;
  readonly now: () => number;
  readonly facts: DoctorFacts;
}

export interface DoctorCheck {
  readonly id: DoctorCheckId;
  readonly title: string;
  run(context: DoctorContext): Promise<CheckResult>;
}

/** A result of this check (keeps each check's lines short). */
export function resultOf(check: Pick<DoctorCheck, 'id' | 'title'>, status: CheckStatus, reason: string, fix?: string): CheckResult {
  return { id: check.id, title: check.title, status, reason, ...(fix !== undefined ? { fix } : {}) };
}

/** Skipped because an earlier check failed. */
export function skipped(check: Pick<DoctorCheck, 'id' | 'title'>, because: string): CheckResult {
  return resultOf(check, 'skip', `not checked: ${because}`);
}
