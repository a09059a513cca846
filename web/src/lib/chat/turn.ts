/**
 * The stream reducer: native SSE events -> the state of the answer being written.
 *
 * One turn may hold several assistant messages: the engine stores a tool round as one message with
 * the calls and starts a new one for the model's next words. The reducer mirrors that (words after
 * a tool call open a new message), so the streamed view and the stored one look the same.
 *
 * `applyEvent` mutates the plain `TurnState` it is given; the page copies it into reactive state once
 * per animation frame (see frame.ts), so a burst of deltas costs one render.
 */
import type { StreamEvent, TokenUsage } from '../types';
import { displayValue, messageKey, type Attachment, type ChatMessage } from './view';

export interface TurnState {
  conversationId: string | null;
  /** the user's message: shown at once, its stored id arrives with `start` */
  user: ChatMessage | null;
  answers: ChatMessage[];
  usage: TokenUsage | null;
  error: { code: string; message: string } | null;
  finished: boolean;
  /** the answer's first message id (from `start`): what a resumed stream asks for */
  answerId: number | null;
}

let localKeys = 0;

function localKey(prefix: string): string {
  localKeys += 1;
  return `${prefix}${localKeys}`;
}

export function newTurn(userText: string | null, attachments: Attachment[] = [], conversationId: string | null = null): TurnState {
  return {
    conversationId,
    user: userText === null ? null : blank('user', userText, attachments),
    answers: [],
    usage: null,
    error: null,
    finished: false,
    answerId: null,
  };
}

function blank(role: 'user' | 'assistant', text = '', attachments: Attachment[] = []): ChatMessage {
  return {
    key: localKey(role === 'user' ? 'u' : 'a'),
    id: null,
    role,
    text,
    reasoning: '',
    tools: [],
    attachments,
    status: role === 'user' ? 'completed' : 'streaming',
    error: null,
    usage: null,
    model: null,
  };
}

/** The message words go to: the last one, unless it already called tools (then a new one). */
function writing(turn: TurnState): ChatMessage {
  const last = turn.answers.at(-1);
  if (last && last.tools.length === 0) return last;
  if (last) last.status = 'completed';
  const next = blank('assistant');
  next.model = last?.model ?? null;
  turn.answers.push(next);
  return next;
}

/** The message tool calls attach to: the last one, whatever it holds. */
function calling(turn: TurnState): ChatMessage {
  return turn.answers.at(-1) ?? writing(turn);
}

export function applyEvent(turn: TurnState, event: StreamEvent): TurnState {
  switch (event.type) {
    case 'start': {
      turn.conversationId = event.conversation_id;
      if (turn.user && event.user_message_id) {
        turn.user.id = event.user_message_id;
      }
      // a resumed stream may start again with the same answer: it continues, it is not a new one
      turn.answerId ??= event.message_id;
      const answer = writing(turn);
      answer.id ??= event.message_id;
      answer.model = event.model;
      break;
    }
    case 'text':
      writing(turn).text += event.delta;
      break;
    case 'reasoning':
      writing(turn).reasoning += event.delta;
      break;
    case 'tool_call':
      calling(turn).tools.push({
        id: event.id,
        name: event.name,
        arguments: displayValue(event.arguments),
        result: null,
        state: 'running',
      });
      break;
    case 'tool_result': {
      const card = turn.answers.flatMap((message) => message.tools).find((tool) => tool.id === event.id);
      if (card) {
        card.result = displayValue(event.result);
        card.state = event.is_error ? 'failed' : 'finished';
      }
      break;
    }
    case 'done': {
      const answer = writing(turn);
      // the stored content is the truth (the words streamed are the same, minus any lost frame)
      answer.text = event.content;
      if (event.reasoning) answer.reasoning = event.reasoning;
      answer.id = event.message_id;
      answer.status = 'completed';
      answer.usage = event.usage ?? null;
      turn.usage = event.usage ?? null;
      turn.finished = true;
      break;
    }
    case 'error':
      turn.error = { code: event.code, message: event.message };
      endTurn(turn, 'failed', event.message);
      break;
  }
  return turn;
}

/** The answer to ask the server for again after the stream broke; null when there is none to resume. */
export function resumable(turn: TurnState): number | null {
  return turn.finished ? null : turn.answerId;
}

/** The turn ended without `done`: an error, the person's Stop, a lost connection. */
export function endTurn(turn: TurnState, status: 'failed' | 'interrupted', error: string | null = null): TurnState {
  for (const answer of turn.answers) {
    if (answer.status === 'streaming') {
      answer.status = status;
      answer.error = error;
    }
    for (const tool of answer.tools) if (tool.state === 'running') tool.state = 'failed';
  }
  turn.finished = true;
  return turn;
}

/**
 * The messages of the turn as the page shows them. A message known by its stored id is keyed as the
 * stored one will be (view.ts), so reading the conversation back after the turn re-renders nothing.
 */
export function turnMessages(turn: TurnState): ChatMessage[] {
  const shown = turn.user ? [turn.user, ...turn.answers] : [...turn.answers];
  const used = new Set<string>();
  return shown.map((message) => {
    let key = messageKey(message.id, message.key);
    if (used.has(key)) key = message.key; // never two alike, whatever ids the server sends
    used.add(key);
    return { ...message, key, tools: message.tools.map((tool) => ({ ...tool })) };
  });
}
