import { describe, expect, it } from 'vitest';
import { Api } from '../api';
import type { ConversationOut } from '../types';
import { ConversationList } from './conversations.svelte';

const conversation = (id: string, title = id) => ({ id, title, origin: 'native' }) as ConversationOut;

/** GET /api/conversations over `all`, filtered by `q`; each request waits until the test releases it. */
function server(all: ConversationOut[]) {
  const queries: string[] = [];
  const pending: (() => void)[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://test');
    if (init?.method === 'DELETE') return Response.json({ success: true });
    queries.push(url.search);
    const q = url.searchParams.get('q') ?? '';
    const page = Number(url.searchParams.get('page'));
    const size = Number(url.searchParams.get('page_size'));
    const matched = all.filter((c) => c.title.includes(q));
    await new Promise<void>((release) => pending.push(release));
    return Response.json({ success: true, data: { items: matched.slice((page - 1) * size, page * size), total: matched.length, page, page_size: size } });
  };
  const release = async () => {
    while (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    pending.shift()?.();
  };
  return { api: new Api({ token: () => 't', onUnauthorized: () => {}, fetch }), queries, release };
}

describe('ConversationList', () => {
  it('loads a page, then more, and knows when there is no more', async () => {
    const { api, queries, release } = server(['a', 'b', 'c'].map((id) => conversation(id)));
    const list = new ConversationList(api, 2);
    const first = list.reload();
    await release();
    await first;
    expect(list.items.map((c) => c.id)).toEqual(['a', 'b']);
    expect(list.hasMore).toBe(true);
    const more = list.more();
    await release();
    await more;
    expect(list.items.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(list.hasMore).toBe(false);
    expect(queries).toEqual(['?page=1&page_size=2', '?page=2&page_size=2']);
  });

  it('a newer search wins over an older one that answers late', async () => {
    const { api, release } = server([conversation('1', 'apple'), conversation('2', 'banana')]);
    const list = new ConversationList(api);
    const older = list.reload('a');
    const newer = list.reload('ban');
    await release();
    await release();
    await Promise.all([older, newer]);
    expect(list.items.map((c) => c.title)).toEqual(['banana']);
    expect(list.loading).toBe(false);
  });

  it('a conversation written in moves to the top; a deleted one leaves', async () => {
    const { api, release } = server([conversation('a'), conversation('b')]);
    const list = new ConversationList(api);
    const loaded = list.reload();
    await release();
    await loaded;
    list.touch(conversation('b'));
    list.touch(conversation('new'));
    expect(list.items.map((c) => c.id)).toEqual(['new', 'b', 'a']);
    expect(list.total).toBe(3);
    await list.remove('b');
    expect(list.items.map((c) => c.id)).toEqual(['new', 'a']);
    expect(list.total).toBe(2);
  });
});
