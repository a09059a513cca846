/**
 * Files attached to the message being written: each is uploaded as soon as it is picked, pasted or
 * dropped (POST /api/files), so sending only carries ids. A failed upload stays listed with its
 * reason until removed; the message cannot be sent while an upload is still running.
 */
import type { Api } from '../api';
import type { FileOut } from '../types';

export interface Upload {
  key: number;
  name: string;
  /** an object URL of a picked image, for the thumbnail (revoked when the upload is dropped) */
  preview: string | null;
  file: FileOut | null;
  error: unknown;
}

export class Uploads {
  items = $state<Upload[]>([]);
  private keys = 0;

  constructor(
    private readonly api: Api,
    private readonly previews: { create: (file: Blob) => string; revoke: (url: string) => void } = {
      create: (file) => URL.createObjectURL(file),
      revoke: (url) => URL.revokeObjectURL(url),
    },
  ) {}

  get busy(): boolean {
    return this.items.some((item) => item.file === null && item.error === null);
  }

  get ready(): FileOut[] {
    return this.items.flatMap((item) => (item.file ? [item.file] : []));
  }

  add(files: Iterable<File>): Promise<void>[] {
    return Array.from(files, (file) => this.upload(file));
  }

  remove(key: number): void {
    const item = this.items.find((candidate) => candidate.key === key);
    if (item?.preview) this.previews.revoke(item.preview);
    this.items = this.items.filter((candidate) => candidate.key !== key);
  }

  /** Sent: the list empties (the message shows its own attachments from now on). */
  take(): { files: FileOut[]; items: Upload[] } {
    for (const item of this.items) if (item.preview) this.previews.revoke(item.preview);
    const taken = { files: this.ready, items: this.items.map((item) => ({ ...item, preview: null })) };
    this.items = [];
    return taken;
  }

  /** The send was refused: the same attachments go back with the draft. */
  restore(items: Upload[]): void {
    this.items = [...items, ...this.items];
  }

  clear(): void {
    for (const item of this.items) this.remove(item.key);
  }

  private async upload(file: File): Promise<void> {
    const key = ++this.keys;
    const preview = file.type.startsWith('image/') ? this.previews.create(file) : null;
    this.items = [...this.items, { key, name: file.name || 'file', preview, file: null, error: null }];
    let patch: Partial<Upload>;
    try {
      patch = { file: await this.api.upload(file) };
    } catch (error) {
      patch = { error };
    }
    this.items = this.items.map((item) => (item.key === key ? { ...item, ...patch } : item));
  }
}
