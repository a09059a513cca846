/**
 * Stored messages (GET /api/messages/{id}) -> what the page shows. The engine stores a tool round
 * as an assistant message carrying `tool_calls`, one `tool` message per result, then a new assistant
 * message for the model's next words; here the results are folded into the calling message's cards
 * and the tool messages themselves are not shown.
 */
import type { MessageOut, MessagePart } from '../types';
import { displayValue, messageKey, type Attachment, type ChatMessage, type ToolCard } from './view';

export function fromServer(messages: readonly MessageOut[]): ChatMessage[] {
  const results = new Map<string, MessageOut>();
  for (const message of messages) {
    if (message.role === 'tool' && message.tool_call_id) results.set(message.tool_call_id, message);
  }
  const shown: ChatMessage[] = [];
  for (const message of messages) {
    const role = message.role === 'user' ? 'user' : message.role === 'assistant' ? 'assistant' : null;
    if (role === null) continue;
    shown.push({
      key: messageKey(message.id, `m${message.id}`),
      id: message.id,
      role,
      text: message.content,
      reasoning: message.reasoning ?? '',
      tools: (message.tool_calls ?? []).map((call) => toolCard(call.id, call.name, call.arguments, results.get(call.id))),
      attachments: attachmentsOf(message.parts ?? []),
      status: message.status,
      error: message.error,
      usage: message.usage,
      model: message.model,
    });
  }
  return shown;
}

function toolCard(id: string, name: string, args: string, result: MessageOut | undefined): ToolCard {
  return {
    id,
    name,
    arguments: displayValue(args),
    result: result ? displayValue(result.content) : null,
    // a call without a stored result was cut short (stop, crash): it never finished
    state: !result ? 'failed' : result.error ? 'failed' : 'finished',
  };
}

export function attachmentsOf(parts: readonly MessagePart[]): Attachment[] {
  return parts
    .filter((part) => part.type !== 'text' && (part.file_id || part.url))
    .map((part) => ({
      fileId: part.file_id ?? null,
      url: part.url ?? null,
      name: part.name ?? part.file_id ?? 'file',
      mime: part.mime ?? '',
      image: part.type === 'image' || (part.mime ?? '').startsWith('image/'),
    }));
}
