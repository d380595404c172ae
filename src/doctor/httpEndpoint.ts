import { loadConfig } from '../config/loadConfig.js';
import type { Logger } from '../sync/logger.js';
import { json, methodNotAllowed, problem, type FetchLikeRequest, type HttpResult } from '../webhook/http.js';
import { readLastDoctorResult, saveLastDoctorResult } from './lastResult.js';
import { runDoctor } from './runDoctor.js';
import type { DoctorReport } from './types.js';

export interface DoctorEndpointOptions {
  readonly logger: Logger;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The app root; default the working directory. */
  readonly cwd?: string;
}

/**
 * POST /api/doctor[?learner=X]: the doctor, run inside the app, so the Graph and storage lines
 * check the app's own managed identity (which exists only in Azure); the report is kept as the
 * last result. GET /api/doctor: the last result. Behind a function key, like /api/status.
 */
export async function doctorEndpoint(request: Pick<FetchLikeRequest, 'method' | 'query'>, options: DoctorEndpointOptions): Promise<HttpResult> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const method = request.method.toUpperCase();
  try {
    if (method === 'GET') {
      const last = await readLastDoctorResult(loadConfig(env, { cwd }));
      if (last === undefined) return problem(404, 'notFound', 'the doctor has not run against these tables yet: POST /api/doctor');
      return json(200, JSON.parse(last.reportJson) as DoctorReport, { 'Cache-Control': 'no-store' });
    }
    if (method !== 'POST') return methodNotAllowed(['GET', 'POST']);
    const learner = request.query?.get('learner')?.trim();
    const report = await runDoctor({ env, cwd, ...(learner !== undefined && learner !== '' ? { learner } : {}) });
    if (report.checks.some((c) => c.id === 'storage' && c.status === 'pass')) await saveLastDoctorResult(loadConfig(env, { cwd }), report);
    options.logger.info('Doctor', { verdict: report.verdict, failed: report.checks.filter((c) => c.status === 'fail').map((c) => c.id).join(',') });
    return json(200, report, { 'Cache-Control': 'no-store' });
  } catch (err) {
    options.logger.error('The doctor failed', { reason: err instanceof Error ? err.message : String(err) });
    return problem(500, 'internal', 'the doctor failed; see the function log');
  }
}
