/**
 * Exports in Azure Blob Storage: one blob, or every export under a container or folder, read
 * with the state tables' credential (the connection string locally and on Azurite, a managed
 * identity in Azure), or with a SAS token when the URL carries one.
 */
import type { Readable } from 'node:stream';
import { BlobServiceClient, type BlobItem, type ContainerClient } from '@azure/storage-blob';
import type { StorageSetting } from '../../config/loadConfig.js';
import { storageCredential } from '../../state/httpState.js';
import { hasStatus } from '../../state/tableClients.js';
import type { OperationOptions } from '../types.js';
import { incompleteReason, type CompletenessRules } from './completeness.js';
import { describeLocation, exportFormatOf, type BlobLocation } from './location.js';
import { spoolStream } from './spool.js';
import { ExportChangedError, type ExportObject, type ExportSource, type SpooledExport } from './types.js';

export interface BlobExportSourceOptions {
  readonly location: BlobLocation;
  /** The state tables' storage setting: its credential is used for the blobs too. */
  readonly storage: StorageSetting;
  readonly rules: CompletenessRules;
  readonly spoolDir: string;
  /** For tests: the clock the settle time is judged by. */
  readonly now?: () => number;
}

/**
 * The container client: with the URL's SAS token; with the connection string's key when it is
 * the same account; else with the Entra credential the state tables would use.
 */
export function containerClientFor(location: BlobLocation, storage: StorageSetting): ContainerClient {
  let service: BlobServiceClient;
  if (location.sas !== undefined) {
    service = new BlobServiceClient(`${location.serviceUrl}?${location.sas}`);
  } else if (storage.kind === 'connectionString' && sameAccount(storage.connectionString, location)) {
    service = new BlobServiceClient(location.serviceUrl, BlobServiceClient.fromConnectionString(storage.connectionString).credential);
  } else {
    if (!location.serviceUrl.startsWith('https://')) throw new Error(`The blob endpoint must be an https:// URL to use an Entra credential, got ${location.serviceUrl}`);
    service = new BlobServiceClient(location.serviceUrl, storageCredential(storage.kind === 'endpoint' ? storage.clientId : undefined));
  }
  return service.getContainerClient(location.container);
}

function sameAccount(connectionString: string, location: BlobLocation): boolean {
  try {
    return BlobServiceClient.fromConnectionString(connectionString).accountName === location.account;
  } catch {
    return false;
  }
}

export function createBlobExportSource(options: BlobExportSourceOptions): ExportSource {
  const { location, rules } = options;
  const container = containerClientFor(location, options.storage);
  const now = options.now ?? Date.now;
  const objectOf = (item: BlobItem): ExportObject | undefined => {
    const format = exportFormatOf(item.name);
    if (format === undefined) return undefined;
    return {
      name: item.name,
      etag: item.properties.etag ?? '',
      size: item.properties.contentLength ?? 0,
      lastModified: item.properties.lastModified.toISOString(),
      format,
    };
  };
  // Names seen by the last listing: markers, and blobs with only uncommitted blocks (an upload in progress).
  let markers = new Set<string>();
  let uploading = new Set<string>();
  let blobTypes = new Map<string, string>();

  return {
    root: describeLocation(location),
    async list(opts: OperationOptions = {}): Promise<ExportObject[]> {
      const found: ExportObject[] = [];
      markers = new Set();
      uploading = new Set();
      blobTypes = new Map();
      if (!location.folder) {
        try {
          const props = await container.getBlobClient(location.path).getProperties({ abortSignal: opts.abortSignal });
          const item = { name: location.path, properties: { etag: props.etag, contentLength: props.contentLength, lastModified: props.lastModified ?? new Date(0) } } as BlobItem;
          const object = objectOf(item);
          if (object !== undefined) found.push(object);
          blobTypes.set(location.path, props.blobType ?? 'BlockBlob');
        } catch (err) {
          if (!hasStatus(err, 404)) throw err;
        }
        if (rules.doneSuffix !== undefined && (await container.getBlobClient(`${location.path}${rules.doneSuffix}`).exists({ abortSignal: opts.abortSignal }))) markers.add(`${location.path}${rules.doneSuffix}`);
        return found;
      }
      for await (const item of container.listBlobsFlat({ prefix: location.path, includeUncommitedBlobs: true, abortSignal: opts.abortSignal })) {
        if (rules.doneSuffix !== undefined && item.name.endsWith(rules.doneSuffix)) markers.add(item.name);
        // A blob with only uncommitted blocks is listed without a committed body.
        if (item.properties.contentLength === undefined || item.properties.etag === undefined) uploading.add(item.name);
        blobTypes.set(item.name, item.properties.blobType ?? 'BlockBlob');
        const object = objectOf(item);
        if (object !== undefined) found.push(object);
      }
      // The service lists in name order already; sort anyway so that the order is a contract, not a detail.
      return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async incomplete(object: ExportObject, opts: OperationOptions = {}): Promise<string | undefined> {
      const blobType = blobTypes.get(object.name) ?? 'BlockBlob';
      let uncommitted = uploading.has(object.name);
      if (!uncommitted && blobType === 'BlockBlob') uncommitted = await hasUncommittedBlocks(container, object.name, opts);
      return incompleteReason(object, { rules, now: now(), uncommitted, appendBlob: blobType === 'AppendBlob', markerExists: rules.doneSuffix === undefined || markers.has(`${object.name}${rules.doneSuffix}`) });
    },
    async spool(object: ExportObject, opts: OperationOptions = {}): Promise<SpooledExport> {
      let body: NodeJS.ReadableStream | undefined;
      try {
        // Exactly the version listed: a blob replaced since is refused (412) and left for the next run.
        const response = await container.getBlobClient(object.name).download(0, undefined, { conditions: { ifMatch: object.etag }, abortSignal: opts.abortSignal });
        body = response.readableStreamBody;
      } catch (err) {
        if (hasStatus(err, 412, 404)) throw new ExportChangedError(`${object.name} changed or disappeared since it was listed; it is read on the next run`, { cause: err });
        throw err;
      }
      if (body === undefined) throw new Error(`${object.name}: the download returned no body`);
      // In Node the SDK's body is an http.IncomingMessage: a Readable.
      return spoolStream(body as Readable, {
        dir: options.spoolDir,
        gzip: object.format.gzip,
        kind: object.format.kind,
        sourceBytes: object.size,
        name: object.name,
        ...(opts.abortSignal !== undefined ? { abortSignal: opts.abortSignal } : {}),
      });
    },
  };
}

/** Whether blocks were staged but not committed: an upload (or a replacement) is in progress. */
async function hasUncommittedBlocks(container: ContainerClient, name: string, options: OperationOptions): Promise<boolean> {
  try {
    const list = await container.getBlockBlobClient(name).getBlockList('uncommitted', { abortSignal: options.abortSignal });
    return (list.uncommittedBlocks?.length ?? 0) > 0;
  } catch (err) {
    // Accounts or blob kinds without block lists: the other rules decide.
    if (hasStatus(err, 400, 404, 409)) return false;
    throw err;
  }
}
