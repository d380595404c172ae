/**
 * Starts the installed Azurite (blob, queue and table) on free loopback ports, for tests and
 * local runs. Nothing is downloaded and nothing listens beyond 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartAzuriteOptions {
  /** Folder where Azurite persists its data across restarts. Cannot be combined with `inMemory`. */
  readonly location?: string;
  /** Keep everything in memory (the default when no `location` is given). */
  readonly inMemory?: boolean;
  /** Hide Azurite's access log (default true; its output is only kept for start-up errors anyway). */
  readonly silent?: boolean;
  /** How long to wait for the ports to accept connections. */
  readonly startTimeoutMs?: number;
}

export interface AzuriteInstance {
  /** For `devstoreaccount1`, with the blob, queue and table endpoints. */
  readonly connectionString: string;
  readonly tablePort: number;
  readonly blobPort: number;
  readonly queuePort: number;
  /** Stops Azurite and waits until the process has exited (it saves its data on the way out). */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Azurite's well-known development account and key (public, not a secret). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const OUTPUT_KEPT = 16 * 1024;
/** The free ports are found before Azurite binds them; another process may take one meanwhile. */
const START_ATTEMPTS = 3;

export function azuriteConnectionString(ports: { blobPort: number; queuePort: number; tablePort: number }): string {
  const endpoint = (port: number): string => `http://${HOST}:${port}/${ACCOUNT}`;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${ACCOUNT}`,
    `AccountKey=${ACCOUNT_KEY}`,
    `BlobEndpoint=${endpoint(ports.blobPort)}`,
    `QueueEndpoint=${endpoint(ports.queuePort)}`,
    `TableEndpoint=${endpoint(ports.tablePort)};`,
  ].join(';');
}

export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  if (options.inMemory === true && options.location !== undefined) {
    throw new Error('startAzurite: `inMemory` and `location` cannot be combined (Azurite refuses --inMemoryPersistence with --location).');
  }
  if (options.location !== undefined) await mkdir(options.location, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(options: StartAzuriteOptions): Promise<AzuriteInstance> {
  const { blobPort, queuePort, tablePort } = await freePorts();
  const args = [
    azuriteEntry(),
    '--blobHost', HOST, '--blobPort', String(blobPort),
    '--queueHost', HOST, '--queuePort', String(queuePort),
    '--tableHost', HOST, '--tablePort', String(tablePort),
    '--disableTelemetry', '--skipApiVersionCheck', '--loose',
    ...(options.location === undefined ? ['--inMemoryPersistence'] : ['--location', resolve(options.location)]),
    ...(options.silent === false ? [] : ['--silent']),
  ];
  // AZURITE_ACCOUNTS would replace devstoreaccount1, whose key the connection string assumes.
  const { AZURITE_ACCOUNTS: _accounts, ...env } = process.env;
  const child = spawn(process.execPath, args, {
    // Azurite writes nothing to its working directory in memory, but keep it out of the repo anyway.
    cwd: options.location === undefined ? tmpdir() : resolve(options.location),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '', tableListening: false };
  const keep = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    output[stream] = (output[stream] + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
    // Azurite starts the table service last and says so (even with --silent). Waiting for the
    // line as well as the port guards against another process having taken the port meanwhile.
    output.tableListening ||= output.stdout.includes('Azurite Table service is successfully listening');
  };
  child.stdout?.on('data', keep('stdout'));
  child.stderr?.on('data', keep('stderr'));
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => resolveExit());
    // A failed spawn emits 'error' and maybe no 'exit'; keep its message for the start-up error.
    child.once('error', (err) => {
      output.stderr += `\n${err.message}`;
      resolveExit();
    });
  });
  // Never leave an orphan Azurite behind if the parent exits without calling stop().
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM'); // Azurite closes its servers and saves its databases on SIGTERM
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitForPorts(child, [blobPort, queuePort, tablePort], () => output.tableListening, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    await stop();
    const message = `Azurite did not start: ${err instanceof Error ? err.message : String(err)}\nAzurite stderr:\n${output.stderr || '(empty)'}\nAzurite stdout:\n${output.stdout || '(empty)'}`;
    throw /EADDRINUSE/.test(output.stderr) ? new PortTakenError(message) : new Error(message);
  }
  return { connectionString: azuriteConnectionString({ blobPort, queuePort, tablePort }), blobPort, queuePort, tablePort, stop };
}

function azuriteEntry(): string {
  // Resolved from this package's node_modules: the pinned devDependency, never a global one.
  return createRequire(import.meta.url).resolve('azurite/dist/src/azurite.js');
}

/** Ports the OS reports free on the loopback address (all held open together, so they differ). */
async function freePorts(): Promise<{ blobPort: number; queuePort: number; tablePort: number }> {
  const servers = await Promise.all(
    Array.from({ length: 3 }, () =>
      new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, HOST, () => resolveServer(server));
      }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('Could not read a free port.');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  const [blobPort = 0, queuePort = 0, tablePort = 0] = ports;
  return { blobPort, queuePort, tablePort };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolveConnect(false);
    });
  });
}

async function waitForPorts(
  child: ChildProcess,
  ports: readonly number[],
  announced: () => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`Azurite exited (code ${child.exitCode ?? child.signalCode}) before port ${port} accepted connections.`);
      }
      if (announced() && (await canConnect(port))) break;
      if (Date.now() > deadline) throw new Error(`Azurite's port ${port} did not accept connections within ${timeoutMs} ms.`);
      await sleep(50);
    }
  }
}
