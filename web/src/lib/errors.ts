/** Any failure -> one sentence for the person, in their language. Codes come from the server's envelope. */
import { ApiError } from './api';
import type { MessageKey } from './i18n/en';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function describeError(error: unknown, t: Translate): string {
  if (error instanceof ApiError) return describeCode(error.code, error.message, t);
  if (error instanceof Error && error.message) return error.message;
  return String(error);
}

/** The same mapping for an `error` event of the stream, which carries {code, message}. */
export function describeCode(code: string, message: string, t: Translate): string {
  if (code === 'network') return t('error.networkShort');
  if (code === 'quota_exceeded') return t('error.quota_exceeded');
  if (code === 'rate_limited' || code === 'http_429') return t('error.rate_limited');
  if (code.startsWith('upstream')) return t('error.upstream', { message });
  return message || code;
}
