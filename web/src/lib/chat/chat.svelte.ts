/**
 * The open conversation: its stored messages, the turn streaming now, and the actions on it (send,
 * Stop, Regenerate, edit-and-resend).
 *
 * The server's copy is the truth. A turn streams into a plain TurnState (turn.ts) copied into
 * reactive state once per animation frame (frame.ts); when the turn ends the conversation is read
 * back from the server, so ids, statuses and attachments are exactly what was stored. After Stop the
 * partial answer stays on screen marked interrupted (the server stores it so, on its own schedule).
 * A connection that breaks mid-answer is picked up again where it broke (Api.resume: the events
 * after the last id received, then the live tail); only when that fails is the conversation reloaded.
 */
import { ApiError, isAbort, type Api, type StreamCursor } from '../api';
import type { MessageKey } from '../i18n/en';
import type { ConversationOut, FileOut, MessageBody } from '../types';
import { failureOf, streamFailureOf, type TurnFailure } from './failure';
import { FrameBatcher } from './frame';
import { fromServer } from './history';
import { applyEvent, endTurn, newTurn, resumable, turnMessages, type TurnState } from './turn';
import { sumUsage } from './usage';
import type { Attachment, ChatMessage } from './view';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** What the server should do with the turn besides the new words. */
export type TurnKind = { kind: 'send' } | { kind: 'regenerate' } | { kind: 'edit'; messageId: number };

export const HISTORY_LIMIT = 1000;
/** How often and how long a stored answer still `streaming` is read again (see follow()). */
export const FOLLOW_MS = 1000;
export const FOLLOW_TRIES = 120;
/** A broken stream is picked up again (GET /api/messages/{id}/stream) this many times in a row
 * without progress, this long apart (the first at once), before the page falls back to reloading. */
export const RESUME_TRIES = 5;
export const RESUME_MS = 1000;

export interface ChatOptions {
  batcher?: (flush: () => void) => FrameBatcher;
  wait?: (ms: number) => Promise<void>;
}

export class Chat {
  conversation = $state<ConversationOut | null>(null);
  history = $state.raw<ChatMessage[]>([]);
  live = $state.raw<ChatMessage[]>([]);
  streaming = $state(false);
  loading = $state(false);
  /** the sentence of the last failure, shown as an alert until dismissed or the next turn */
  failure = $state<string | null>(null);

  messages = $derived([...this.history, ...this.live]);
  usage = $derived(sumUsage(this.messages));

  private controller: AbortController | null = null;
  private turn: TurnState | null = null;
  private opened = 0;
  private readonly batcher: FrameBatcher;
  private readonly wait: (ms: number) => Promise<void>;
  private following = 0;

  constructor(
    private readonly api: Api,
    private readonly t: Translate,
    options: ChatOptions = {},
  ) {
    const flush = () => {
      if (this.turn) this.live = turnMessages(this.turn);
    };
    this.batcher = options.batcher ? options.batcher(flush) : new FrameBatcher(flush);
    this.wait = options.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The last user message and whether the last answer can be regenerated. */
  get lastUser(): ChatMessage | null {
    for (let i = this.history.length - 1; i >= 0; i--) if (this.history[i].role === 'user') return this.history[i];
    return null;
  }

  /** Show conversation `id` (null: a new one). Opening the one already shown does nothing. */
  async open(id: string | null): Promise<void> {
    if (id !== null && id === this.conversation?.id) return;
    this.stop();
    const opened = ++this.opened;
    this.conversation = null;
    this.history = [];
    this.live = [];
    this.failure = null;
    if (id === null) return;
    this.loading = true;
    try {
      const [conversation, messages] = await Promise.all([this.api.conversation(id), this.api.messages(id, HISTORY_LIMIT)]);
      if (opened !== this.opened) return;
      this.conversation = conversation;
      this.history = fromServer(messages);
      void this.follow();
    } catch (error) {
      if (opened === this.opened) this.failure = failureOf(error, false, this.t).message;
    } finally {
      if (opened === this.opened) this.loading = false;
    }
  }

  /** A conversation just created here (before its first message): no need to read it back. */
  adopt(conversation: ConversationOut): void {
    this.opened++;
    this.conversation = conversation;
    this.history = [];
    this.live = [];
  }

  /** Read the stored messages again (after a turn, a lost connection, the browser coming back online). */
  async reload(): Promise<boolean> {
    const id = this.conversation?.id;
    if (!id || this.streaming) return false;
    try {
      const messages = await this.api.messages(id, HISTORY_LIMIT);
      if (id !== this.conversation?.id || this.streaming) return false;
      this.history = fromServer(messages);
      this.live = [];
      return true;
    } catch {
      return false;
    }
  }

  /** Send the person's words (and uploaded files). Returns the failure, if any, for the composer. */
  send(text: string, files: FileOut[] = [], how: TurnKind = { kind: 'send' }): Promise<TurnFailure | null> {
    const conversation = this.conversation;
    if (!conversation || this.streaming) return Promise.resolve(null);
    let attachments = files.map(attachmentOf);
    const body: MessageBody = { conversation_id: conversation.id, content: text };
    if (how.kind === 'edit') {
      // the edited words replace the message; its files stay with it (the server supersedes both)
      const at = this.history.findIndex((message) => message.id === how.messageId);
      attachments = [...(this.history[at]?.attachments.filter((file) => file.fileId) ?? []), ...attachments];
      body.edit_message_id = how.messageId;
      if (at >= 0) this.history = this.history.slice(0, at);
    }
    // images among them reach the provider as image parts (the server decides by the stored type)
    const ids = attachments.flatMap((file) => (file.fileId ? [{ file_id: file.fileId }] : []));
    if (ids.length) body.files = ids;
    return this.run(body, newTurn(text, attachments, conversation.id));
  }

  /** Answer the last user message again: the last answer is replaced. */
  regenerate(): Promise<TurnFailure | null> {
    const conversation = this.conversation;
    const last = this.lastUser;
    if (!conversation || !last || this.streaming) return Promise.resolve(null);
    this.history = this.history.slice(0, this.history.indexOf(last) + 1);
    return this.run({ conversation_id: conversation.id, content: '', regenerate: true }, newTurn(null, [], conversation.id));
  }

  /**
   * Stop the answer: the fetch is aborted and the server told to stop it (a closed stream alone
   * leaves the answer running a while for a client to come back); it keeps the partial answer as
   * interrupted.
   */
  stop(): void {
    const answerId = this.turn ? resumable(this.turn) : null;
    this.controller?.abort();
    if (answerId !== null) this.api.stopAnswer(answerId).catch(() => {}); // best effort: the grace period ends it anyway
  }

  private async run(body: MessageBody, turn: TurnState): Promise<TurnFailure | null> {
    const controller = new AbortController();
    this.controller = controller;
    this.following++;
    this.turn = turn;
    this.streaming = true;
    this.failure = null;
    this.live = turnMessages(turn);
    let started = false;
    let stopped = false;
    let failure: TurnFailure | null = null;
    try {
      const cursor: StreamCursor = {};
      let events = this.api.stream(body, controller.signal, cursor);
      for (let tries = 0; ; tries++) {
        const before = cursor.lastEventId;
        try {
          for await (const event of events) {
            if (event.type === 'start') started = true;
            if (event.type === 'error') failure = streamFailureOf(event.code, event.message, this.t);
            applyEvent(turn, event);
            this.batcher.schedule();
          }
        } catch (error) {
          // the server cannot resume it (it is gone, or not this person's): read the conversation back
          if (tries > 0 && error instanceof ApiError && !lostConnection(error)) break;
          // a broken connection mid-answer is resumed below; anything else ends the turn as before
          if (!lostConnection(error) || resumable(turn) === null) throw error;
        }
        const answerId = resumable(turn);
        if (cursor.lastEventId !== before) tries = 0; // it got further: a fresh set of tries
        if (answerId === null || tries >= RESUME_TRIES) break;
        // the server keeps the answer going (and its events) for a while: ask for the rest
        if (tries > 0) await this.wait(RESUME_MS);
        if (controller.signal.aborted) throw new DOMException('stopped', 'AbortError');
        events = this.api.resume(answerId, controller.signal, cursor);
      }
      if (!turn.finished) {
        // the stream closed without `done` or `error`: the connection broke under it
        failure = { message: this.t('error.network'), reload: true, restoreDraft: false };
        endTurn(turn, 'failed');
      }
    } catch (error) {
      stopped = isAbort(error);
      if (!stopped) failure = failureOf(error, started, this.t);
      endTurn(turn, stopped ? 'interrupted' : 'failed', failure?.message ?? null);
    } finally {
      // the person may have opened another conversation meanwhile (which stopped this turn)
      if (this.conversation?.id === body.conversation_id) this.batcher.flushNow();
      else this.batcher.cancel();
      this.turn = null;
      this.controller = null;
      this.streaming = false;
    }
    if (this.conversation?.id !== body.conversation_id) return failure;
    if (failure) this.failure = failure.message;
    if (stopped || (failure && !failure.reload)) {
      // keep what was seen; a refused turn shows nothing new (the draft goes back to the composer)
      this.history = failure?.restoreDraft ? this.history : [...this.history, ...this.live];
      this.live = [];
      if (failure?.restoreDraft) await this.reload();
      return failure;
    }
    if (!(await this.reload())) {
      this.history = [...this.history, ...this.live];
      this.live = [];
    }
    if (failure?.reload) void this.follow();
    return failure;
  }

  /**
   * An answer the server is still writing without us (the page reloaded, or the connection broke
   * while the server carries on): read the conversation again until it is finished, so the page
   * ends showing what was stored — completed, or interrupted with the words kept.
   */
  private async follow(): Promise<void> {
    const following = ++this.following;
    const id = this.conversation?.id;
    for (let tries = 0; tries < FOLLOW_TRIES; tries++) {
      if (!this.history.some((message) => message.status === 'streaming')) return;
      await this.wait(FOLLOW_MS);
      if (following !== this.following || id !== this.conversation?.id || this.streaming) return;
      await this.reload();
    }
  }
}

function lostConnection(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'network';
}

function attachmentOf(file: FileOut): Attachment {
  return { fileId: file.id, url: null, name: file.name, mime: file.mime, image: file.mime.startsWith('image/') };
}
