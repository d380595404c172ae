/**
 * A local export that must be copied before it is read: a `.gz` file (decompressed to the
 * spool). Plain local `.jsonl` / `.csv` files are read in place by the file adapter.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ConfigError } from '../../config/errors.js';
import type { OperationOptions } from '../types.js';
import { incompleteReason, type CompletenessRules } from './completeness.js';
import { exportFormatOf } from './location.js';
import { spoolStream } from './spool.js';
import { ExportChangedError, type ExportObject, type ExportSource, type SpooledExport } from './types.js';

export interface LocalExportSourceOptions {
  readonly path: string;
  /** The setting the path came from, for messages. */
  readonly setting: string;
  readonly rules: CompletenessRules;
  readonly spoolDir: string;
}

export function createLocalExportSource(options: LocalExportSourceOptions): ExportSource {
  const { path } = options;
  const format = exportFormatOf(path);
  if (format === undefined) throw new ConfigError([{ setting: options.setting, problem: `(${path}): must name a .jsonl, .csv, .jsonl.gz or .csv.gz file` }]);
  const describe = async (): Promise<ExportObject | undefined> => {
    try {
      const stats = await stat(path);
      // A file has no ETag: its modification time and size stand in for one.
      return { name: path, etag: `${stats.mtimeMs}-${stats.size}`, size: stats.size, lastModified: stats.mtime.toISOString(), format };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  return {
    root: path,
    list: async () => {
      const object = await describe();
      return object === undefined ? [] : [object];
    },
    incomplete: (object) => Promise.resolve(incompleteReason(object, { rules: options.rules, now: Date.now(), uncommitted: false, appendBlob: false, markerExists: true })),
    spool: async (object: ExportObject, opts: OperationOptions = {}): Promise<SpooledExport> => {
      const current = await describe();
      if (current?.etag !== object.etag) throw new ExportChangedError(`${path} changed since it was listed; it is read on the next run`);
      return spoolStream(createReadStream(path), { dir: options.spoolDir, gzip: format.gzip, kind: format.kind, sourceBytes: object.size, name: path, ...(opts.abortSignal !== undefined ? { abortSignal: opts.abortSignal } : {}) });
    },
  };
}
