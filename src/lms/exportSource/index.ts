/**
 * Builds the reader for the file adapter's path settings (LMS_FILE_PATH, LMS_CATALOG_PATH): a
 * plain local file is read in place; a Blob Storage URL, or a local `.gz`, goes through an
 * export source (enrollment exports each read once per ETag; the catalog from the newest
 * complete export).
 */
import { resolve } from 'node:path';
import type { StorageSetting } from '../../config/loadConfig.js';
import { createFileAdapter, type ExportMode } from '../file.js';
import { checkCatalogFile, listFileCatalog } from '../fileCatalog.js';
import type { LmsAdapter, ListCatalogOptions, OperationOptions, PagedCatalog } from '../types.js';
import { createBlobExportSource } from './blob.js';
import { listSourceCatalog } from './catalog.js';
import { createExportsAdapter, type SeenExport } from './exportsAdapter.js';
import { createLocalExportSource } from './local.js';
import { parseExportLocation } from './location.js';
import { readExportSettings } from './settings.js';
import type { ExportSource } from './types.js';

export interface ExportSourceOptions {
  /** The setting's name, for messages. */
  readonly setting: string;
  /** The setting's value: a local path (relative to `cwd`) or a Blob Storage URL. */
  readonly value: string;
  readonly cwd: string;
  /** The file adapter's other LMS_* settings (LMS_EXPORT_*). */
  readonly extra: Readonly<Record<string, string>>;
  /** Where the state tables are: blobs are read with the same credential. */
  readonly storage: StorageSetting;
}

export interface PathAdapterOptions extends Omit<ExportSourceOptions, 'setting' | 'value'> {
  /** LMS_FILE_PATH. */
  readonly value: string;
  /** LMS_CATALOG_PATH. */
  readonly catalogPath?: string;
  readonly exportMode: ExportMode;
  readonly mappingPath?: string;
  readonly lookbackMs: number;
  /** What the state records of a source's exports (the exports table). */
  readonly seenExports: (root: string, options: OperationOptions) => Promise<readonly SeenExport[]>;
}

/** The export source a path setting names; undefined for a plain local file (read in place). */
export function exportSourceFor(options: ExportSourceOptions): ExportSource | undefined {
  const location = parseExportLocation(options.value, options.setting);
  const settings = readExportSettings(options.extra);
  if (location.kind === 'blob') return createBlobExportSource({ location, storage: options.storage, rules: settings.rules, spoolDir: settings.spoolDir });
  const path = resolve(options.cwd, location.path);
  if (!/\.gz$/i.test(path)) return undefined;
  return createLocalExportSource({ path, setting: options.setting, rules: settings.rules, spoolDir: settings.spoolDir });
}

/** The file adapter over whatever LMS_FILE_PATH (and LMS_CATALOG_PATH) name. */
export function createPathAdapter(options: PathAdapterOptions): LmsAdapter {
  const { cwd, extra, storage } = options;
  const source = exportSourceFor({ setting: 'LMS_FILE_PATH', value: options.value, cwd, extra, storage });
  const mappingPath = options.mappingPath !== undefined ? resolve(cwd, options.mappingPath) : undefined;
  const enrollments =
    source === undefined
      ? createFileAdapter({ path: resolve(cwd, options.value), lookbackMs: options.lookbackMs, exportMode: options.exportMode, ...(mappingPath !== undefined ? { mappingPath } : {}) })
      : createExportsAdapter({ source, seen: options.seenExports, mode: options.exportMode, lookbackMs: options.lookbackMs, ...(mappingPath !== undefined ? { mappingPath } : {}) });
  const listCatalog = options.catalogPath === undefined ? undefined : catalogLister(options.catalogPath, { cwd, extra, storage });
  return listCatalog === undefined ? enrollments : { ...enrollments, listCatalog };
}

function catalogLister(value: string, options: Omit<ExportSourceOptions, 'setting' | 'value'>): (listOptions?: ListCatalogOptions) => PagedCatalog {
  const source = exportSourceFor({ setting: 'LMS_CATALOG_PATH', value, ...options });
  if (source !== undefined) return (listOptions = {}) => listSourceCatalog(source, listOptions);
  const path = resolve(options.cwd, value);
  checkCatalogFile(path);
  return (listOptions = {}) => listFileCatalog(path, listOptions);
}
