import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { stableId } from '#lib/domain/ids.ts';

/**
 * Where mail lives outside DynamoDB: the raw mail SES stored, and attachments (never inline
 * in an item: the 400 KB item limit). S3 on AWS, a folder in the data dir locally.
 */
export interface MailStore {
  getObject(bucket: string, key: string): Promise<Uint8Array>;
  /** Stores an attachment; returns the URL or key the message points to. */
  saveAttachment(name: string, contentType: string, bytes: Uint8Array): Promise<string>;
}

// Content-addressed: a retried webhook stores the same attachment under the same key.
function attachmentKey(name: string, bytes: Uint8Array): string {
  const safe = name.replace(/[^\w.-]+/g, '_').slice(-80) || 'attachment';
  return `attachments/${stableId('att', Buffer.from(bytes).toString('base64'))}/${safe}`;
}

export class S3MailStore implements MailStore {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(options: { client: S3Client; bucket: string }) {
    this.#client = options.client;
    this.#bucket = options.bucket;
  }

  async getObject(bucket: string, key: string): Promise<Uint8Array> {
    const result = await this.#client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!result.Body) throw new Error('empty S3 object');
    return result.Body.transformToByteArray();
  }

  async saveAttachment(name: string, contentType: string, bytes: Uint8Array): Promise<string> {
    const key = attachmentKey(name, bytes);
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: bytes, ContentType: contentType }),
    );
    return `s3://${this.#bucket}/${key}`;
  }
}

/** The data dir as the mail store: `<dir>/<bucket>/<key>` for mail, `<dir>/attachments/…`. */
export class LocalMailStore implements MailStore {
  readonly #dir: string;

  constructor(options: { dir: string }) {
    this.#dir = resolve(options.dir);
  }

  async getObject(bucket: string, key: string): Promise<Uint8Array> {
    return readFile(this.#inside(join(bucket, key)));
  }

  async saveAttachment(name: string, _contentType: string, bytes: Uint8Array): Promise<string> {
    const path = this.#inside(attachmentKey(name, bytes));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    return `file://${path}`;
  }

  // A key from a webhook must never climb out of the store's folder.
  #inside(relative: string): string {
    const path = resolve(this.#dir, relative);
    if (!path.startsWith(`${this.#dir}/`)) throw new Error('object key outside the mail store');
    return path;
  }
}
