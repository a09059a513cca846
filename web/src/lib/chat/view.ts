/**
 * What the chat page shows, independent of where it came from: messages read back from the server
 * (history.ts) and the answer streaming right now (turn.ts) both become `ChatMessage`s, so one
 * component renders both and a reload after a stream shows exactly what was seen.
 */
import type { MessageStatus, TokenUsage } from '../types';

export type ToolState = 'running' | 'finished' | 'failed';

export interface ToolCard {
  id: string;
  name: string;
  /** the arguments as the model produced them, pretty-printed when they are JSON */
  arguments: string;
  result: string | null;
  state: ToolState;
}

export interface Attachment {
  fileId: string | null;
  url: string | null;
  name: string;
  mime: string;
  image: boolean;
}

export interface ChatMessage {
  /** stable across the switch from a streamed message to the stored one: `m<id>` or a local key */
  key: string;
  id: number | null;
  role: 'user' | 'assistant';
  text: string;
  reasoning: string;
  tools: ToolCard[];
  attachments: Attachment[];
  status: MessageStatus;
  error: string | null;
  usage: TokenUsage | null;
  model: string | null;
}

export function messageKey(id: number | null, fallback: string): string {
  return id ? `m${id}` : fallback;
}

/** Tool arguments and results arrive as JSON values or text; cards show text, pretty when JSON. */
export function displayValue(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  if (value === undefined || value === null) return '';
  return JSON.stringify(value, null, 2);
}
