import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { fromGraphExternalId } from '../../src/graph/odata.js';
import type { EnrollmentRecord } from '../../src/mapping/enrollment.js';
import { GraphStandIn, type ActivityRecord, type GraphStandInOptions } from '../../src/sandbox/graphStandIn.js';
import { sandboxTenant, stableGuid } from '../../src/sandbox/tenant.js';
import { silentLogger } from '../../src/sync/logger.js';
import { openSync, type SyncRunner, type SyncRunOptions } from '../../src/sync/openSync.js';
import type { RunSummary } from '../../src/sync/types.js';
import { toCsv, toJsonl } from './builders.js';

const repoRoot = resolve(import.meta.dirname, '../..');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * One product under test: the Graph stand-in over real HTTP, its own tables on the shared
 * Azurite, an export file, and the settings a user would give (DESIGN.md's names).
 */
export class SyncHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'vivasync-'));
  readonly tenant = sandboxTenant([]);
  readonly standIn: GraphStandIn;
  env: Record<string, string>;
  private runner: SyncRunner | undefined;

  private constructor(options: GraphStandInOptions, format: 'jsonl' | 'csv') {
    this.standIn = new GraphStandIn({ token: this.tenant.token, providers: [this.tenant.provider], ...options });
    this.env = {
      VIVA_PROVIDER_ID: this.tenant.provider.id,
      LMS_ADAPTER: 'file',
      LMS_FILE_PATH: join(this.dir, `export.${format}`),
      GRAPH_AUTH: 'static-token',
      GRAPH_TOKEN: this.tenant.token,
      AzureWebJobsStorage: inject('azuriteConnectionString'),
      SYNC_TABLE_PREFIX: `h${randomBytes(6).toString('hex')}`,
    };
  }

  static async create(options: GraphStandInOptions = {}, format: 'jsonl' | 'csv' = 'jsonl'): Promise<SyncHarness> {
    const harness = new SyncHarness(options, format);
    harness.env.GRAPH_BASE_URL = await harness.standIn.start(0);
    return harness;
  }

  get exportPath(): string {
    return this.env.LMS_FILE_PATH ?? '';
  }

  /** Writes the export and makes every learner and assigner (but "former.*") an Entra user. */
  writeExport(records: readonly unknown[]): void {
    writeFileSync(this.exportPath, this.exportPath.endsWith('.csv') ? toCsv(records) : toJsonl(records));
    this.addUsers(records);
  }

  /** Makes every learner and assigner of these records (but "former.*") an Entra user. */
  addUsers(records: readonly unknown[]): void {
    for (const record of records as EnrollmentRecord[]) {
      if (record.deleted === true) continue;
      for (const person of [record.learner, record.assigner]) {
        const upn = (person?.upn ?? person?.email)?.toLowerCase();
        if (upn === undefined || upn.startsWith('former.')) continue;
        this.standIn.addUser({ id: stableGuid(upn), userPrincipalName: upn, ...(person?.email !== undefined ? { mail: person.email.toLowerCase() } : {}) });
      }
    }
  }

  userId(upn: string): string {
    return stableGuid(upn.toLowerCase());
  }

  /** One sync pass in this process, wired exactly as the CLI wires it. */
  async run(options: SyncRunOptions = {}, env: Record<string, string> = {}): Promise<RunSummary> {
    if (Object.keys(env).length > 0 || this.runner === undefined) {
      this.runner = await openSync(loadConfig({ ...this.env, ...env }, { cwd: this.dir }), { logger: silentLogger, cwd: this.dir });
    }
    return this.runner.run({ deadLetterRetryBaseMs: 0, ...options });
  }

  async state(): Promise<SyncRunner['state']> {
    this.runner ??= await openSync(loadConfig(this.env, { cwd: this.dir }), { logger: silentLogger, cwd: this.dir });
    return this.runner.state;
  }

  /** The real `viva-sync` in a child process; `onStarted` may kill it. */
  runCli(args: readonly string[], env: Record<string, string> = {}, onStarted?: (kill: () => void) => void): Promise<CliResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [join(repoRoot, 'bin/viva-sync.js'), ...args], {
        cwd: this.dir,
        env: { PATH: process.env.PATH ?? '', ...this.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
      onStarted?.(() => child.kill('SIGKILL'));
    });
  }

  /** `viva-sync …` in this process (no build needed), with this harness's settings. */
  async cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: { ...this.env, ...env }, cwd: this.dir };
    const code = await runCli(args, io);
    return { code, stdout, stderr };
  }

  /**
   * Activities in the stand-in, grouped by the LMS id their externalCourseActivityId stands for (Graph
   * stores an id with '/' escaped: src/graph/odata.ts toGraphExternalId).
   */
  activitiesByExternalId(): Map<string, ActivityRecord[]> {
    const map = new Map<string, ActivityRecord[]>();
    for (const activity of this.standIn.activities()) {
      const key = fromGraphExternalId(activity.externalCourseActivityId ?? '');
      map.set(key, [...(map.get(key) ?? []), activity]);
    }
    return map;
  }

  async close(): Promise<void> {
    await this.standIn.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The last line of standard output, parsed as JSON (the `--json` contract). */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, unknown>;
}

/** The last line of stdout as the JSON run summary. */
export function summaryOf(result: CliResult): RunSummary {
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as RunSummary;
}
