/**
 * Exports in Azurite's blob service for the tests: a container per test, blobs written the
 * ways an LMS writes them (one upload, staged blocks not yet committed, gzip).
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

export class BlobExports {
  readonly container: ContainerClient;

  private constructor(
    readonly connectionString: string,
    readonly containerName: string,
  ) {
    this.container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName);
  }

  static async create(connectionString: string): Promise<BlobExports> {
    const exports = new BlobExports(connectionString, `exports-${randomBytes(5).toString('hex')}`);
    await exports.container.create();
    return exports;
  }

  /** The URL a user puts in LMS_FILE_PATH for `path` (a blob, or a folder ending in `/`). */
  url(path: string): string {
    return `${this.container.url}/${path}`;
  }

  async put(name: string, text: string | Buffer): Promise<string> {
    const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    const response = await this.container.getBlockBlobClient(name).upload(body, body.length);
    return response.etag ?? '';
  }

  async putGzip(name: string, text: string): Promise<string> {
    return this.put(name, gzipSync(Buffer.from(text, 'utf8')));
  }

  /** Stages the text as blocks without committing them: an upload in progress. Returns the commit. */
  async stage(name: string, text: string): Promise<() => Promise<void>> {
    const client = this.container.getBlockBlobClient(name);
    const id = Buffer.from('block-000001').toString('base64');
    const body = Buffer.from(text, 'utf8');
    await client.stageBlock(id, body, body.length);
    return async () => {
      await client.commitBlockList([id]);
    };
  }
}
