import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, runCli } from '../../src/cli/main.js';

const cwd = mkdtempSync(join(tmpdir(), 'cli-help-'));

async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {}, cwd });
  return { code, stdout, stderr };
}

/** Every command path the program defines, e.g. ['cursor', 'set'] (help commands excluded). */
function commandPaths(command: Command, prefix: readonly string[] = []): string[][] {
  return command.commands.filter((c) => c.name() !== 'help').flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const paths = commandPaths(buildProgram({ io: { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd }, abortSignal: undefined, exit: () => undefined }));

describe('viva-sync --help, --version and usage errors', () => {
  it('defines the commands of DESIGN.md and the operations guide', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['sync', 'worker', 'status', 'resync', 'webhook sign', 'deadletters list', 'deadletters retry', 'deadletters discard', 'runs', 'cursor show', 'cursor set', 'quarantine show', 'quarantine clear', 'provider register', 'provider show', 'provider enable-activity-sync']),
    );
  });

  it.each(paths.map((p) => [p.join(' '), p]))('%s --help prints its usage, options and (for a leaf) examples, exit 0', async (_name, path) => {
    const { code, stdout } = await cli([...path, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: viva-sync ${path.join(' ')}`);
    expect(stdout).not.toContain('viva-sync viva-sync');
    expect(stdout).toContain('--help');
    const leaf = !stdout.includes('Commands:');
    if (leaf) expect(stdout).toMatch(/Examples:\n {2}# .+\n {2}\$ viva-sync /);
  });

  it('help COMMAND answers like COMMAND --help', async () => {
    expect(await cli(['help', 'sync'])).toMatchObject({ code: 0, stdout: (await cli(['sync', '--help'])).stdout });
  });

  it('--version prints the version in package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('an unknown option exits 2 naming the nearest one and the command whose --help to read', async () => {
    const { code, stderr } = await cli(['sync', '--dyr-run']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--dyr-run'");
    expect(stderr).toContain('Did you mean --dry-run?');
    expect(stderr).toContain('Run `viva-sync sync --help`');
  });

  it('an unknown command or subcommand exits 2 and suggests the nearest', async () => {
    const top = await cli(['snyc']);
    expect(top.code).toBe(2);
    expect(top.stderr).toContain('unknown command "snyc"');
    expect(top.stderr).toContain('Did you mean sync?');
    const sub = await cli(['deadletters', 'lst']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('Did you mean list?');
  });

  it('a command without its subcommand, or with a missing argument, exits 2 with the usage', async () => {
    expect((await cli([])).code).toBe(2);
    const bare = await cli(['cursor']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: viva-sync cursor');
    const missing = await cli(['cursor', 'set']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'value'");
    expect((await cli(['sync', '--mode', 'both'])).stderr).toContain('Allowed choices are inline, queue');
  });

  it('a usage error found by a command points at that command\'s --help', async () => {
    const { code, stderr } = await cli(['runs', '--limit', '0']);
    expect(code).toBe(2);
    expect(stderr).toContain('--limit takes a whole number from 1 to 1000');
    expect(stderr).toContain('Run `viva-sync runs --help`');
  });
});
