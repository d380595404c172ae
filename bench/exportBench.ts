import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';

/**
 * `npm run bench -- --export-mb 200`: an enrollment export of that size read from a local file, from
 * Azurite's blob service, and as `.jsonl.gz` from the blob service (README, "Performance"), each in
 * a child process whose peak RSS is reported: reading through Blob Storage must stay as flat as
 * reading the local file, whatever the size.
 */
export interface ExportBenchOptions {
  readonly megabytes: number;
  readonly dir: string;
  readonly connectionString: string;
  readonly baseEnv: Record<string, string>;
  readonly runChild: (env: Record<string, string>) => Promise<{ records: number; invalid: number; pages: number; wallMs: number; maxRssMb: number }>;
}

function line(i: number): string {
  const learner = `learner${i % 5000}@contoso.example`;
  const course = `course-${i % 1000}`;
  return `${JSON.stringify({
    enrollmentId: `export-bench-${i}`,
    learner: { id: `u${i % 5000}`, upn: learner, email: learner },
    course: { id: course, title: `Course ${course}`, url: `https://lms.example/c/${course}`, description: 'A course of the export bench, with a description of ordinary length.', durationMinutes: 30 },
    source: 'assigned',
    assignmentType: 'required',
    assignedAt: '2026-10-01T09:00:00.000Z',
    status: 'inProgress',
    progressPercent: i % 100,
    updatedAt: new Date(Date.parse('2026-10-01T00:00:00Z') + i * 1000).toISOString(),
  })}\n`;
}

/** Writes records until the file reaches the size, streaming (the bench holds no more than a chunk). */
async function writeExport(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let i = 0;
  while (written < bytes) {
    const chunk: string[] = [];
    for (let k = 0; k < 1000; k++, i++) chunk.push(line(i));
    const text = chunk.join('');
    written += Buffer.byteLength(text);
    if (!out.write(text)) await new Promise<void>((resolveDrain) => out.once('drain', () => resolveDrain()));
  }
  await new Promise<void>((resolveEnd, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolveEnd())));
  return i;
}

export async function exportBench(options: ExportBenchOptions): Promise<void> {
  const plain = join(options.dir, 'export-bench.jsonl');
  const gz = `${plain}.gz`;
  const count = await writeExport(plain, options.megabytes * 1024 * 1024);
  await pipeline(createReadStream(plain), createGzip(), createWriteStream(gz));
  const container = BlobServiceClient.fromConnectionString(options.connectionString).getContainerClient('export-bench');
  await container.createIfNotExists();
  await container.getBlockBlobClient('daily/2026-11-01.jsonl').uploadFile(plain);
  await container.getBlockBlobClient('gz/2026-11-01.jsonl.gz').uploadFile(gz);
  console.error(`export bench: ${count} records, ${(statSync(plain).size / 1048576).toFixed(0)} MB (${(statSync(gz).size / 1048576).toFixed(0)} MB gzip)`);

  const cases: [string, string][] = [
    ['local file', plain],
    ['blob folder', `${container.url}/daily/`],
    ['blob folder, .jsonl.gz', `${container.url}/gz/`],
  ];
  const rows = [];
  for (const [name, path] of cases) {
    // Its own tables each time: every case reads its export as new.
    const result = await options.runChild({ ...options.baseEnv, LMS_FILE_PATH: path, LMS_EXPORT_SETTLE_SECONDS: '0', SYNC_TABLE_PREFIX: `x${rows.length}${options.baseEnv['SYNC_TABLE_PREFIX'] ?? ''}` });
    rows.push({ source: name, records: result.records, refused: result.invalid, 'MB/s': Math.round(statSync(plain).size / 1048576 / (result.wallMs / 1000)), 'wall s': (result.wallMs / 1000).toFixed(1), 'peak RSS MB': result.maxRssMb });
    console.error(`  ${name}: done in ${(result.wallMs / 1000).toFixed(1)} s`);
  }
  console.table(rows);
  console.log(JSON.stringify({ exportMb: options.megabytes, records: count, rows }));
}
