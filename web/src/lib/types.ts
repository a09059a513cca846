/**
 * The shapes the web app reads from the native face.
 *
 * Request bodies come from the generated `openapi.d.ts` (`npm run gen:api`). The server's routes return
 * raw responses, so /openapi.json carries no response schemas: the `...Out` types below are written
 * from src/switchboard/faces/native/mapping.py and must follow it. Fields of endpoints still being
 * added (see the API contract) are marked `TODO regenerate`.
 */
import type { components } from './openapi';

type Schemas = components['schemas'];

export type LoginBody = Schemas['LoginBody'];
export type RegisterBody = Schemas['RegisterBody'];
export type ConversationBody = Partial<Schemas['ConversationBody']>;
export type ConversationPatchBody = Schemas['ConversationPatchBody'];
export type ImageRef = Schemas['ImageRef'];

/** POST /api/messages and /api/messages/stream. */
export type MessageBody = Schemas['MessageBody'];

export type Role = 'user' | 'admin';

export interface SessionUser {
  id: number;
  username: string;
  role: Role;
}

export interface LoginData {
  access_token: string;
  token_type: 'bearer';
  expires_at: string;
  user: SessionUser;
}

export interface UserOut {
  id: number;
  username: string;
  email: string | null;
  role: Role;
  is_active: boolean;
  created_at: string | null;
}

/** Where a conversation started: the face or platform (see lib/chat/origin.ts for the labels). */
export type Origin =
  | 'native'
  | 'astrbot'
  | 'musebot'
  | 'miochat'
  | 'chatgpt_proxy'
  | 'openai'
  | 'onebot'
  | 'telegram'
  | (string & {});

export interface ConversationOut {
  id: string;
  user_id: number;
  title: string;
  project_id: string | null;
  model: string | null;
  system_prompt: string | null;
  temperature: number | null;
  max_tokens: number;
  thinking_enabled: boolean;
  tools_enabled: boolean;
  created_at: string;
  updated_at: string;
  origin: Origin;
  profile_id: string | null;
}

/** GET /api/profiles: a chat profile a user may start a conversation with (never its system prompt). */
export interface ProfileChoice {
  id: string;
  name: string;
  model: string | null;
  temperature: number | null;
  tools_enabled: boolean;
  has_persona: boolean;
  is_default: boolean;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export type MessageStatus = 'completed' | 'streaming' | 'interrupted' | 'failed' | (string & {});

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface MessagePart {
  type: string;
  text?: string;
  file_id?: string;
  url?: string;
  mime?: string;
  name?: string;
}

export interface StoredToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface MessageOut {
  id: number;
  conversation_id: string;
  role: 'user' | 'assistant' | 'tool' | 'system' | (string & {});
  content: string;
  parts: MessagePart[];
  reasoning: string;
  tool_calls: StoredToolCall[];
  tool_call_id: string | null;
  name: string | null;
  status: MessageStatus;
  model: string | null;
  usage: TokenUsage | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  estimated_requests: number;
}

/** GET /api/usage. TODO regenerate: the allowance fields are expected from the contract. */
export interface UsageReport {
  since: string;
  by: string;
  rows: (UsageTotals & Record<string, unknown>)[];
  total: UsageTotals;
  token_allowance?: number | null;
  tokens_remaining?: number | null;
  unlimited?: boolean;
}

/** GET /api/models. TODO regenerate: being added. */
export interface ModelOut {
  id: string;
  provider: string;
  vision: boolean;
  available: boolean;
}

/** POST /api/files. TODO regenerate: being added. */
export interface FileOut {
  id: string;
  name: string;
  mime: string;
  size: number;
  kind: string;
}

/** GET /api/auth/options. TODO regenerate: being added. */
export interface AuthOptions {
  registration_open: boolean;
}

/** The native SSE stream of POST /api/messages/stream (src/switchboard/faces/native/stream.py). */
export type StreamEvent =
  | { type: 'start'; conversation_id: string; message_id: number; user_message_id: number; model: string | null }
  | { type: 'text'; delta: string; message_id?: number }
  | { type: 'reasoning'; delta: string; message_id?: number }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown; message_id?: number }
  | { type: 'tool_result'; id: string; name: string; result: unknown; is_error: boolean }
  | {
      type: 'done';
      message_id: number;
      content: string;
      reasoning?: string;
      finish_reason?: string | null;
      usage?: TokenUsage;
    }
  | { type: 'error'; code: string; message: string };

export type StreamEventType = StreamEvent['type'];
