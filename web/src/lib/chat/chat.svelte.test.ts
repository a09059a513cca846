import { describe, expect, it } from 'vitest';
import { Api } from '../api';
import { translate } from '../i18n/index.svelte';
import type { MessageKey } from '../i18n/en';
import type { ConversationOut, MessageOut } from '../types';
import { Chat } from './chat.svelte';
import { FrameBatcher } from './frame';

const t = (key: MessageKey, params?: Record<string, string | number>) => translate('en', key, params);
const encoder = new TextEncoder();

const conversation = { id: 'c1', title: 'Test', origin: 'native' } as ConversationOut;

function stored(id: number, role: string, content: string, status = 'completed'): MessageOut {
  return {
    id, conversation_id: 'c1', role, content, parts: [], reasoning: '', tool_calls: [], tool_call_id: null, name: null,
    status, model: null, usage: role === 'assistant' ? { prompt_tokens: 4, completion_tokens: 2 } : null, error: null,
    created_at: '', updated_at: '',
  };
}

function frame(event: string, data: unknown, id?: number): Uint8Array {
  return encoder.encode(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The native face as far as the chat page talks to it; each stream is driven by the test. */
class FakeServer {
  messages: MessageOut[] = [];
  bodies: unknown[] = [];
  stream!: ReadableStreamDefaultController<Uint8Array>;
  refuse: { status: number; code: string } | null = null;
  /** GET /api/messages/{id}/stream calls: the answer asked for and the Last-Event-ID sent */
  resumes: [string, string | null][] = [];
  resumeRefused = false;
  /** POST /api/messages/{id}/stop calls: the answers stopped */
  stops: string[] = [];
  waits = 0;
  /** the pause between reads of an answer still being written: the test goes on at once */
  wait = async (): Promise<void> => {
    this.waits += 1;
    if (this.waits === 2) this.messages = this.messages.map((m) => (m.status === 'streaming' ? { ...m, status: 'completed', content: 'all of it' } : m));
  };

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const path = new URL(String(input), 'http://test').pathname;
    if (path === '/api/messages/stream') {
      this.bodies.push(JSON.parse(String(init?.body)));
      if (this.refuse) return Response.json({ success: false, message: 'no', code: this.refuse.code }, { status: this.refuse.status });
      const body = new ReadableStream<Uint8Array>({ start: (controller) => void (this.stream = controller) });
      init?.signal?.addEventListener('abort', () => this.stream.error(new DOMException('aborted', 'AbortError')));
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }
    if (path.startsWith('/api/messages/') && path.endsWith('/stop')) {
      this.stops.push(path.split('/')[3]);
      return Response.json({ success: true, message: 'stopped' });
    }
    if (path.startsWith('/api/messages/') && path.endsWith('/stream')) {
      this.resumes.push([path.split('/')[3], new Headers(init?.headers).get('last-event-id')]);
      if (this.resumeRefused) return Response.json({ success: false, message: 'message not found', code: 'not_found' }, { status: 404 });
      const body = new ReadableStream<Uint8Array>({ start: (controller) => void (this.stream = controller) });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }
    if (path.startsWith('/api/messages/')) return Response.json({ success: true, data: this.messages });
    return Response.json({ success: true, data: { ...conversation, id: path.split('/').at(-1) } });
  };
}

async function openChat(server: FakeServer): Promise<Chat> {
  const api = new Api({ token: () => 'token', onUnauthorized: () => {}, fetch: server.fetch });
  const frames = { request: (callback: () => void) => (queueMicrotask(callback), 1), cancel: () => {} };
  const chat = new Chat(api, t, { batcher: (flush) => new FrameBatcher(flush, frames), wait: server.wait });
  await chat.open('c1');
  return chat;
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 0));
};

describe('Chat', () => {
  it('streams an answer, then shows the conversation as stored, with its usage', async () => {
    const server = new FakeServer();
    const chat = await openChat(server);
    const sent = chat.send('hi');
    await until(() => chat.streaming && server.stream !== undefined);
    server.stream.enqueue(frame('start', { conversation_id: 'c1', message_id: 2, user_message_id: 1, model: 'm' }));
    server.stream.enqueue(frame('text', { delta: 'Hel' }));
    await until(() => chat.live.at(-1)?.text === 'Hel');
    expect(chat.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    server.messages = [stored(1, 'user', 'hi'), stored(2, 'assistant', 'Hello')];
    server.stream.enqueue(frame('done', { message_id: 2, content: 'Hello', usage: { prompt_tokens: 4, completion_tokens: 2 } }));
    server.stream.close();
    expect(await sent).toBeNull();
    expect(chat.streaming).toBe(false);
    expect(chat.messages.map((m) => [m.key, m.text])).toEqual([['m1', 'hi'], ['m2', 'Hello']]);
    expect(chat.usage).toEqual({ prompt: 4, completion: 2 });
    expect(server.bodies).toEqual([{ conversation_id: 'c1', content: 'hi' }]);
  });

  it('Stop keeps the partial answer, marked interrupted, without an error', async () => {
    const server = new FakeServer();
    const chat = await openChat(server);
    const sent = chat.send('hi');
    await until(() => server.stream !== undefined);
    server.stream.enqueue(frame('start', { conversation_id: 'c1', message_id: 2, user_message_id: 1, model: 'm' }));
    server.stream.enqueue(frame('text', { delta: 'partial' }));
    await until(() => chat.live.at(-1)?.text === 'partial');
    chat.stop();
    expect(await sent).toBeNull();
    expect(chat.failure).toBeNull();
    expect(chat.messages.at(-1)).toMatchObject({ text: 'partial', status: 'interrupted' });
    expect(server.stops).toEqual(['2']); // the server is told: a closed stream alone would leave it running
    expect(server.resumes).toEqual([]);
  });

  it('a connection lost mid-stream is resumed after the last event id, and the answer ends as one', async () => {
    const server = new FakeServer();
    const chat = await openChat(server);
    const sent = chat.send('hi');
    await until(() => server.stream !== undefined);
    const first = server.stream;
    first.enqueue(frame('start', { conversation_id: 'c1', message_id: 2, user_message_id: 1, model: 'm' }, 1));
    first.enqueue(frame('text', { delta: 'Hel' }, 2));
    await until(() => chat.live.at(-1)?.text === 'Hel');
    first.error(new TypeError('network error'));
    await until(() => server.stream !== first);
    expect(server.resumes).toEqual([['2', '2']]);
    expect(chat.streaming).toBe(true);
    server.messages = [stored(1, 'user', 'hi'), stored(2, 'assistant', 'Hello')];
    server.stream.enqueue(frame('text', { delta: 'lo' }, 3));
    server.stream.enqueue(frame('done', { message_id: 2, content: 'Hello' }, 5));
    server.stream.close();
    expect(await sent).toBeNull();
    expect(chat.failure).toBeNull();
    expect(chat.messages.map((m) => [m.text, m.status])).toEqual([['hi', 'completed'], ['Hello', 'completed']]);
  });

  it('a resumed stream that breaks again is resumed from where it got to', async () => {
    const server = new FakeServer();
    const chat = await openChat(server);
    const sent = chat.send('hi');
    await until(() => server.stream !== undefined);
    let current = server.stream;
    current.enqueue(frame('start', { conversation_id: 'c1', message_id: 2, user_message_id: 1, model: 'm' }, 1));
    await until(() => chat.live.at(-1)?.id === 2);
    current.error(new TypeError('network error'));
    await until(() => server.stream !== current);
    current = server.stream;
    current.enqueue(frame('text', { delta: 'a' }, 2));
    current.enqueue(frame('text', { delta: 'b' }, 3));
    await until(() => chat.live.at(-1)?.text === 'ab');
    current.error(new TypeError('network error'));
    await until(() => server.stream !== current);
    server.stream.enqueue(frame('done', { message_id: 2, content: 'abc' }, 4));
    server.stream.close();
    expect(await sent).toBeNull();
    expect(server.resumes).toEqual([['2', '1'], ['2', '3']]);
  });

  it('a connection lost mid-stream that cannot be resumed says so and reloads what the server kept', async () => {
    const server = new FakeServer();
    server.resumeRefused = true;
    const chat = await openChat(server);
    const sent = chat.send('hi');
    await until(() => server.stream !== undefined);
    server.stream.enqueue(frame('start', { conversation_id: 'c1', message_id: 2, user_message_id: 1, model: 'm' }));
    await until(() => chat.live.at(-1)?.id === 2);
    server.messages = [stored(1, 'user', 'hi'), stored(2, 'assistant', 'kept', 'interrupted')];
    server.stream.error(new TypeError('network error'));
    expect((await sent)?.reload).toBe(true);
    expect(chat.failure).toBe(t('error.network'));
    expect(chat.messages.map((m) => [m.text, m.status])).toEqual([['hi', 'completed'], ['kept', 'interrupted']]);
    expect(server.resumes).toEqual([['2', null]]);
  });

  it('a quota refusal before the answer shows the message and gives the draft back', async () => {
    const server = new FakeServer();
    server.refuse = { status: 429, code: 'quota_exceeded' };
    const chat = await openChat(server);
    const failure = await chat.send('hi');
    expect(failure?.restoreDraft).toBe(true);
    expect(chat.failure).toBe(t('error.quota_exceeded'));
    expect(chat.messages).toEqual([]);
  });

  it('regenerate asks for a new last answer and hides the old one meanwhile', async () => {
    const server = new FakeServer();
    server.messages = [stored(1, 'user', 'hi'), stored(2, 'assistant', 'old')];
    const chat = await openChat(server);
    const again = chat.regenerate();
    await until(() => server.stream !== undefined);
    expect(chat.messages.map((m) => m.text)).toEqual(['hi']);
    expect(server.bodies).toEqual([{ conversation_id: 'c1', content: '', regenerate: true }]);
    server.stream.enqueue(frame('error', { code: 'upstream_error', message: 'down' }));
    server.stream.close();
    expect((await again)?.message).toBe('The model provider failed to answer: down');
  });

  it('follows an answer the server is still writing until it is stored', async () => {
    const server = new FakeServer();
    server.messages = [stored(1, 'user', 'hi'), stored(2, 'assistant', 'so far', 'streaming')];
    const chat = await openChat(server);
    expect(chat.messages.at(-1)).toMatchObject({ text: 'so far', status: 'streaming' });
    await until(() => chat.messages.at(-1)?.status === 'completed');
    expect(chat.messages.at(-1)?.text).toBe('all of it');
    expect(server.waits).toBe(2);
  });

  it('edit-and-resend keeps the files of the message and replaces the rest of the conversation', async () => {
    const server = new FakeServer();
    const withImage = { ...stored(1, 'user', 'what is this?'), parts: [{ type: 'image', file_id: 'f1', name: 'cat.png', mime: 'image/png' }] };
    server.messages = [withImage, stored(2, 'assistant', 'a dog')];
    const chat = await openChat(server);
    const edited = chat.send('what animal is this?', [], { kind: 'edit', messageId: 1 });
    await until(() => server.stream !== undefined);
    expect(server.bodies).toEqual([{ conversation_id: 'c1', content: 'what animal is this?', edit_message_id: 1, files: [{ file_id: 'f1' }] }]);
    expect(chat.messages.map((m) => [m.text, m.attachments.map((a) => a.name)])).toEqual([['what animal is this?', ['cat.png']]]);
    server.stream.close();
    await edited;
  });

  it('opening another conversation stops the turn and shows none of it there', async () => {
    const server = new FakeServer();
    const chat = await openChat(server);
    const sent = chat.send('hi');
    await until(() => server.stream !== undefined);
    server.stream.enqueue(frame('start', { conversation_id: 'c1', message_id: 2, user_message_id: 1, model: 'm' }));
    server.stream.enqueue(frame('text', { delta: 'for c1' }));
    await until(() => chat.live.at(-1)?.text === 'for c1');
    server.messages = [stored(7, 'user', 'other conversation')];
    const opened = chat.open('c2');
    await sent;
    expect(chat.messages.map((m) => m.text)).not.toContain('for c1');
    await opened;
    expect(chat.messages.map((m) => m.text)).toEqual(['other conversation']);
    expect(chat.failure).toBeNull();
  });
});
