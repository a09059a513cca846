/**
 * The one thin client of the native face: every request of the web app goes through `Api`.
 *
 * - adds `Authorization: Bearer <token>` when signed in;
 * - unwraps the envelope `{success, message?, data?}` into `data`, or throws a typed `ApiError`
 *   (status, code, message); a network failure is `code: "network"`, status 0;
 * - a 401 on a request that carried a token means the session is gone: `onUnauthorized` clears it
 *   (and the app goes back to the login page);
 * - `stream()` reads POST /api/messages/stream as Server-Sent Events over fetch (EventSource cannot
 *   POST nor send a header) and yields typed events until the stream ends or the signal aborts;
 *   `resume()` picks an answer up again after a lost connection (GET /api/messages/{id}/stream).
 */
import { SseParser } from './sse';
import type {
  AuthOptions,
  ConversationBody,
  ConversationOut,
  ConversationPatchBody,
  FileOut,
  LoginBody,
  LoginData,
  MessageBody,
  MessageOut,
  ModelOut,
  Page,
  ProfileChoice,
  RegisterBody,
  StreamEvent,
  StreamEventType,
  UsageReport,
  UserOut,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

export interface ApiOptions {
  token: () => string | null;
  onUnauthorized: () => void;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | null | undefined>;

/** Where a stream got to: the id of the last event received (SSE `id:`). */
export interface StreamCursor {
  lastEventId?: number;
}

interface RequestOptions {
  headers?: Record<string, string>;
  query?: Query;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal;
}

const STREAM_EVENTS: ReadonlySet<StreamEventType> = new Set([
  'start', 'text', 'reasoning', 'tool_call', 'tool_result', 'done', 'error',
]);

export class Api {
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: ApiOptions) {
    this.fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Any native endpoint: the envelope's `data`, or an ApiError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options, 'application/json');
    const envelope = await readEnvelope(response);
    if (!response.ok || envelope?.success !== true) throw this.failure(response, envelope);
    return envelope.data as T;
  }

  /** A file's bytes (GET /api/files/{id}): the bearer header cannot ride on an <img src>. */
  async blob(path: string, signal?: AbortSignal): Promise<Blob> {
    const response = await this.send('GET', path, { signal }, '*/*');
    if (!response.ok) throw this.failure(response, await readEnvelope(response));
    return response.blob();
  }

  /**
   * POST /api/messages/stream: typed events as they arrive. Abort the signal to stop the answer.
   * `cursor.lastEventId` follows the SSE ids, for `resume` after a lost connection.
   */
  async *stream(body: MessageBody, signal: AbortSignal, cursor: StreamCursor = {}): AsyncGenerator<StreamEvent> {
    const response = await this.send('POST', '/api/messages/stream', { json: body, signal }, 'text/event-stream');
    yield* this.events(response, signal, cursor);
  }

  /**
   * GET /api/messages/{id}/stream: the answer `messageId` (the `start` event's) again after a lost
   * connection — the events after `cursor.lastEventId`, then the live tail; an answer that has ended
   * comes back as `start` and `done` (the stored content) or `error`.
   */
  async *resume(messageId: number, signal: AbortSignal, cursor: StreamCursor): AsyncGenerator<StreamEvent> {
    const headers: Record<string, string> = cursor.lastEventId === undefined ? {} : { 'last-event-id': String(cursor.lastEventId) };
    const response = await this.send('GET', `/api/messages/${messageId}/stream`, { signal, headers }, 'text/event-stream');
    yield* this.events(response, signal, cursor);
  }

  private async *events(response: Response, signal: AbortSignal, cursor: StreamCursor): AsyncGenerator<StreamEvent> {
    if (!response.ok || !response.body) throw this.failure(response, await readEnvelope(response));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<string>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (isAbort(error) || signal.aborted) throw new DOMException('stopped', 'AbortError');
          throw new ApiError(0, 'network', 'the connection was lost while the answer was streaming');
        }
        if (chunk.done) break;
        for (const frame of parser.push(chunk.value)) {
          const event = toStreamEvent(frame.event, frame.data);
          // counted only once the event is handed over: a resume asks for what comes after it
          if (event) yield event;
          const id = frame.id === undefined ? NaN : Number(frame.id);
          if (Number.isSafeInteger(id)) cursor.lastEventId = id;
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  private async send(method: string, path: string, options: RequestOptions, accept: string): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers, accept };
    const token = this.options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.form) body = options.form;
    else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await this.fetcher(withQuery(path, options.query), { method, headers, body, signal: options.signal });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError(0, 'network', 'the server cannot be reached');
    }
    if (response.status === 401 && token) this.options.onUnauthorized();
    return response;
  }

  private failure(response: Response, envelope: Envelope | null): ApiError {
    const message = envelope?.message || response.statusText || `HTTP ${response.status}`;
    return new ApiError(response.status, envelope?.code || `http_${response.status}`, message);
  }

  // ---- the endpoints the chat page uses (the admin console calls `request` with its own types) ----

  authOptions = () => this.request<AuthOptions>('GET', '/api/auth/options');
  login = (body: LoginBody) => this.request<LoginData>('POST', '/api/auth/login', { json: body });
  register = (body: RegisterBody) => this.request<{ id: number; username: string }>('POST', '/api/auth/register', { json: body });
  logout = () => this.request<void>('POST', '/api/auth/logout');
  me = () => this.request<UserOut>('GET', '/api/auth/me');

  conversations = (query: { page: number; page_size: number; q?: string }) =>
    this.request<Page<ConversationOut>>('GET', '/api/conversations', { query });
  conversation = (id: string) => this.request<ConversationOut>('GET', `/api/conversations/${encodeURIComponent(id)}`);
  createConversation = (body: ConversationBody) =>
    this.request<ConversationOut>('POST', '/api/conversations', { json: body });
  updateConversation = (id: string, body: ConversationPatchBody) =>
    this.request<ConversationOut>('PUT', `/api/conversations/${encodeURIComponent(id)}`, { json: body });
  deleteConversation = (id: string) => this.request<void>('DELETE', `/api/conversations/${encodeURIComponent(id)}`);
  /** The person's Stop: the server ends the answer now (closing the stream alone leaves it a grace period). */
  stopAnswer = (messageId: number) => this.request<void>('POST', `/api/messages/${messageId}/stop`);
  messages = (conversationId: string, limit = 1000) =>
    this.request<MessageOut[]>('GET', `/api/messages/${encodeURIComponent(conversationId)}`, { query: { limit } });

  models = () => this.request<ModelOut[]>('GET', '/api/models');
  profiles = () => this.request<ProfileChoice[]>('GET', '/api/profiles');
  usage = () => this.request<UsageReport>('GET', '/api/usage');
  upload = (file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return this.request<FileOut>('POST', '/api/files', { form });
  };
  file = (id: string, signal?: AbortSignal) => this.blob(`/api/files/${encodeURIComponent(id)}`, signal);
}

interface Envelope {
  success: boolean;
  message?: string;
  code?: string;
  data?: unknown;
}

async function readEnvelope(response: Response): Promise<Envelope | null> {
  try {
    const body: unknown = await response.json();
    return body !== null && typeof body === 'object' && 'success' in body ? (body as Envelope) : null;
  } catch {
    return null; // not JSON: a proxy's error page, an empty body
  }
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** One SSE frame -> a typed event; frames of unknown names or with broken JSON are skipped. */
export function toStreamEvent(name: string, data: string): StreamEvent | null {
  if (!STREAM_EVENTS.has(name as StreamEventType)) return null;
  try {
    const payload: unknown = JSON.parse(data);
    if (payload === null || typeof payload !== 'object') return null;
    return { ...(payload as object), type: name } as StreamEvent;
  } catch {
    return null;
  }
}
