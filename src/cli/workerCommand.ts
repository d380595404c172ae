import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { openWorker } from '../sync/queue/openQueue.js';
import { drainPoisonQueue, runWorkerLoop } from '../sync/queue/worker.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './io.js';

export interface WorkerOptions {
  readonly idleExit?: string;
  readonly visibilityTimeout?: string;
  readonly poison?: boolean;
  readonly json?: boolean;
}

/**
 * `viva-sync worker`: the queue trigger of queue mode, run locally (against Azurite or the real
 * account): performs the work batches `viva-sync sync --mode queue` enqueued, until SIGINT or,
 * with --idle-exit, until the queue has been empty that long. `--poison` instead turns the
 * poison queue's messages into dead letters and exits.
 */
export async function workerCommand(values: WorkerOptions, io: CliIo, abortSignal?: AbortSignal): Promise<number> {
  const idle = values.idleExit;
  if (idle !== undefined && !/^\d+(\.\d+)?$/.test(idle)) throw new UsageError('--idle-exit takes a number of seconds');
  // How long a taken batch stays hidden from other workers; a worker that dies leaves it to another after this.
  const visibility = values.visibilityTimeout;
  if (visibility !== undefined && !/^\d+$/.test(visibility)) throw new UsageError('--visibility-timeout takes a whole number of seconds');
  const config = loadConfig(io.env, { cwd: io.cwd });
  const logger = stderrLogger(io.stderr);
  const worker = await openWorker(config, { logger, ...(abortSignal !== undefined ? { abortSignal } : {}) });
  try {
    if (values.poison === true) {
      const result = await drainPoisonQueue(worker.queues.poison, worker.deps);
      io.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : `${result.messages} poison messages became ${result.deadLetters} dead letters\n`);
      return result.deadLetters > 0 ? EXIT.deadLetters : EXIT.ok;
    }
    // redelivered: batches done on a second or later delivery; failedDeliveries: deliveries that threw (retried or poisoned).
    const totals = { batches: 0, duplicates: 0, written: 0, failed: 0, redelivered: 0, failedDeliveries: 0, poisoned: 0 };
    await runWorkerLoop({
      queues: worker.queues,
      deps: worker.deps,
      ...(abortSignal !== undefined ? { abortSignal } : {}),
      ...(idle !== undefined ? { idleExitMs: Number(idle) * 1000 } : {}),
      ...(visibility !== undefined ? { visibilityTimeoutSeconds: Number(visibility) } : {}),
      onBatch: (result, delivery) => {
        totals.batches += 1;
        if (delivery.dequeueCount > 1) totals.redelivered += 1;
        if (result.status === 'duplicate') totals.duplicates += 1;
        totals.written += result.written;
        totals.failed += result.failed;
      },
      onFailedDelivery: (delivery) => {
        totals.failedDeliveries += 1;
        if (delivery.poisoned) totals.poisoned += 1;
      },
    });
    io.stdout.write(values.json === true ? `${JSON.stringify(totals)}\n` : `${totals.batches} work batches (${totals.duplicates} already done, ${totals.redelivered} on a repeated delivery): ${totals.written} written, ${totals.failed} dead-lettered; ${totals.failedDeliveries} failed deliveries (${totals.poisoned} to the poison queue)\n`);
    return totals.failed > 0 ? EXIT.deadLetters : EXIT.ok;
  } finally {
    await worker.close();
  }
}

export function registerWorker(program: Command, context: CommandContext): void {
  const command = program
    .command('worker')
    .summary('perform the queued work batches (queue mode)')
    .description(
      'Perform the work batches `viva-sync sync --mode queue` enqueued (the queue trigger, run locally against Azurite or\n' +
        'the real account) until Ctrl-C or, with --idle-exit, until the queue has been empty that long.',
    )
    .option('--idle-exit <seconds>', 'exit once the queue has been empty this long')
    .option('--visibility-timeout <seconds>', 'how long a taken batch stays hidden from other workers')
    .option('--poison', 'instead, turn the poison queue\'s messages into dead letters and exit')
    .option('--json', 'print the totals as one JSON object')
    .action(async (options: WorkerOptions) => context.exit(await workerCommand(options, context.io, context.abortSignal)));
  withExamples(command, [
    ['viva-sync worker --idle-exit 30', 'work until the queue has been empty for 30 s'],
    ['viva-sync worker --poison --json', 'dead-letter what the poison queue holds'],
  ]);
}
