/**
 * Copies an export to the instance's temp disk, decompressing `.gz` on the way, so that the
 * file adapter's two-pass reader (which reads by byte offset) works on it. The copy streams:
 * memory stays flat whatever the export's size. The disk's free space is checked first and
 * watched while writing (a compressed export's size is only known once it is written).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ExportContentError, type SpooledExport } from './types.js';

export interface SpoolOptions {
  /** The folder the copy is written to (LMS_EXPORT_SPOOL_DIR; default the OS temp folder). */
  readonly dir: string;
  readonly gzip: boolean;
  /** The copy's extension (`jsonl`, `csv`): readers that go by the file name read it right. */
  readonly kind: 'jsonl' | 'csv';
  /** The size the source reported (compressed size for gzip); checked against the free space first. */
  readonly sourceBytes: number;
  /** Name used in messages. */
  readonly name: string;
  readonly abortSignal?: AbortSignal;
  /** Free space the copy must leave on the disk (default 64 MiB). */
  readonly reserveBytes?: number;
}

const DEFAULT_RESERVE_BYTES = 64 * 1024 * 1024;

/** Free bytes on the disk holding `dir` (for an unprivileged process). */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/** Streams `body` into a new file under `options.dir`; removes the partial file on any failure. */
export async function spoolStream(body: Readable, options: SpoolOptions): Promise<SpooledExport> {
  await mkdir(options.dir, { recursive: true });
  const reserve = options.reserveBytes ?? DEFAULT_RESERVE_BYTES;
  const allowed = (await freeBytes(options.dir)) - reserve;
  if (options.sourceBytes > allowed) {
    body.destroy();
    throw new ExportContentError(`${options.name}: ${options.sourceBytes} bytes do not fit on the spool disk (${Math.max(0, allowed)} bytes free beyond the reserve; set LMS_EXPORT_SPOOL_DIR to a larger disk)`);
  }
  const path = join(options.dir, `vivasync-export-${randomBytes(8).toString('hex')}.${options.kind}`);
  let written = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      written += chunk.length;
      if (written > allowed) done(new ExportContentError(`${options.name}: the decompressed export passed the ${Math.max(0, allowed)} bytes free on the spool disk (set LMS_EXPORT_SPOOL_DIR to a larger disk)`));
      else done(null, chunk);
    },
  });
  const out = createWriteStream(path);
  const signalOpt = options.abortSignal !== undefined ? { signal: options.abortSignal } : {};
  try {
    if (options.gzip) await pipeline(body, createGunzip(), meter, out, signalOpt);
    else await pipeline(body, meter, out, signalOpt);
  } catch (err) {
    await rm(path, { force: true });
    if (isZlibError(err)) throw new ExportContentError(`${options.name}: not a readable gzip file (${(err as Error).message})`, { cause: err });
    throw err;
  }
  return { path, bytes: written, dispose: () => rm(path, { force: true }) };
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
