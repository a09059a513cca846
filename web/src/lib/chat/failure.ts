/**
 * How a failed turn is told and handled. The sentence comes from lib/errors.ts (the one mapping of
 * codes to words); this adds what the page does about it: a lost connection reloads the
 * conversation from the server (the server kept what was written), and a request refused before the
 * answer started gives the person their words back in the composer.
 */
import { ApiError } from '../api';
import { describeCode, describeError } from '../errors';
import type { MessageKey } from '../i18n/en';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface TurnFailure {
  message: string;
  /** read the conversation back from the server */
  reload: boolean;
  /** nothing was accepted: put the draft back */
  restoreDraft: boolean;
}

/** A thrown error (HTTP status before the stream, or the connection lost during it). */
export function failureOf(error: unknown, started: boolean, t: Translate): TurnFailure {
  if (error instanceof ApiError && error.code === 'network') {
    // reload even before `start`: the request may have reached the server and its message be stored
    return { message: started ? t('error.network') : t('error.networkShort'), reload: true, restoreDraft: !started };
  }
  return { message: describeError(error, t), reload: started, restoreDraft: !started };
}

/** An `error` event inside the stream: the turn was accepted, its messages are stored. */
export function streamFailureOf(code: string, message: string, t: Translate): TurnFailure {
  return { message: describeCode(code, message, t), reload: true, restoreDraft: false };
}
