import { describe, expect, it } from 'vitest';
import { Api } from '../api';
import { Uploads } from './uploads.svelte';

function uploads(fail: Set<string> = new Set()) {
  const revoked: string[] = [];
  const fetch = async (_input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const file = (init?.body as FormData).get('file') as File;
    if (fail.has(file.name)) return Response.json({ success: false, message: 'too big', code: 'invalid_input' }, { status: 413 });
    return Response.json({ success: true, data: { id: `f-${file.name}`, name: file.name, mime: file.type, size: file.size, kind: 'image' } });
  };
  const api = new Api({ token: () => 't', onUnauthorized: () => {}, fetch });
  const store = new Uploads(api, { create: (file) => `blob:${(file as File).name}`, revoke: (url) => revoked.push(url) });
  return { store, revoked };
}

describe('Uploads', () => {
  it('uploads at once, is busy meanwhile, and hands over the ids', async () => {
    const { store, revoked } = uploads();
    const done = store.add([new File(['x'], 'cat.png', { type: 'image/png' }), new File(['y'], 'notes.txt', { type: 'text/plain' })]);
    expect(store.busy).toBe(true);
    expect(store.items.map((item) => item.preview)).toEqual(['blob:cat.png', null]);
    await Promise.all(done);
    expect(store.busy).toBe(false);
    const taken = store.take();
    expect(taken.files.map((file) => file.id)).toEqual(['f-cat.png', 'f-notes.txt']);
    expect(store.items).toEqual([]);
    expect(revoked).toEqual(['blob:cat.png']);
    store.restore(taken.items);
    expect(store.ready.map((file) => file.id)).toEqual(['f-cat.png', 'f-notes.txt']);
  });

  it('keeps a failed upload listed with its reason, never sent', async () => {
    const { store } = uploads(new Set(['huge.bin']));
    await Promise.all(store.add([new File(['z'], 'huge.bin')]));
    expect(store.busy).toBe(false);
    expect(store.ready).toEqual([]);
    expect(store.items[0].error).toMatchObject({ status: 413, message: 'too big' });
    store.remove(store.items[0].key);
    expect(store.items).toEqual([]);
  });
});
