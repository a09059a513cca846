import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { translate } from '../i18n/index.svelte';
import type { MessageKey } from '../i18n/en';
import type { MessageOut } from '../types';
import { failureOf, streamFailureOf } from './failure';
import { fromServer } from './history';
import { originLabel } from './origin';
import { allowanceOf, sumUsage } from './usage';
import { widen, windowStart } from './window';

const t = (key: MessageKey, params?: Record<string, string | number>) => translate('en', key, params);

function stored(fields: Partial<MessageOut>): MessageOut {
  return {
    id: 1, conversation_id: 'c', role: 'user', content: '', parts: [], reasoning: '', tool_calls: [], tool_call_id: null,
    name: null, status: 'completed', model: null, usage: null, error: null, created_at: '', updated_at: '', ...fields,
  };
}

describe('history', () => {
  it('folds tool results into the calling message and hides tool messages', () => {
    const shown = fromServer([
      stored({ id: 1, role: 'user', content: 'weather?', parts: [{ type: 'text', text: 'weather?' }, { type: 'image', file_id: 'f1', mime: 'image/png' }] }),
      stored({ id: 2, role: 'assistant', tool_calls: [{ id: 'k', name: 'weather', arguments: '{"city":"Oslo"}' }] }),
      stored({ id: 3, role: 'tool', tool_call_id: 'k', name: 'weather', content: 'cold', error: null }),
      stored({ id: 4, role: 'assistant', content: 'Cold.', status: 'interrupted', usage: { prompt_tokens: 3, completion_tokens: 1 } }),
      stored({ id: 5, role: 'system', content: 'hidden' }),
    ]);
    expect(shown.map((m) => [m.key, m.role, m.status])).toEqual([['m1', 'user', 'completed'], ['m2', 'assistant', 'completed'], ['m4', 'assistant', 'interrupted']]);
    expect(shown[0].attachments).toEqual([{ fileId: 'f1', url: null, name: 'f1', mime: 'image/png', image: true }]);
    expect(shown[1].tools).toEqual([{ id: 'k', name: 'weather', arguments: '{\n  "city": "Oslo"\n}', result: 'cold', state: 'finished' }]);
  });

  it('a tool call without a stored result never finished', () => {
    const [message] = fromServer([stored({ role: 'assistant', tool_calls: [{ id: 'k', name: 'x', arguments: '' }] })]);
    expect(message.tools[0].state).toBe('failed');
  });
});

describe('usage', () => {
  it('sums the usage of the conversation, skipping messages without', () => {
    expect(sumUsage([{ usage: { prompt_tokens: 10, completion_tokens: 5 } }, { usage: null }, { usage: { prompt_tokens: 1, completion_tokens: 2 } }]))
      .toEqual({ prompt: 11, completion: 7 });
  });

  it('reads the allowance: unlimited, remaining (never negative), or unknown', () => {
    const base = { since: '', by: 'day', rows: [], total: { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, estimated_requests: 0 } };
    expect(allowanceOf({ ...base, unlimited: true, tokens_remaining: null })).toEqual({ kind: 'unlimited' });
    expect(allowanceOf({ ...base, unlimited: false, tokens_remaining: 1200 })).toEqual({ kind: 'remaining', tokens: 1200 });
    expect(allowanceOf({ ...base, tokens_remaining: -5 })).toEqual({ kind: 'remaining', tokens: 0 });
    expect(allowanceOf(base)).toEqual({ kind: 'unknown' });
    expect(allowanceOf(null)).toEqual({ kind: 'unknown' });
  });
});

describe('origin labels', () => {
  it('names every face and platform, and shows an unknown origin as spelled', () => {
    expect(['native', 'astrbot', 'musebot', 'miochat', 'chatgpt_proxy', 'openai', 'onebot', 'telegram'].map((o) => originLabel(o, t)))
      .toEqual(['Web', 'AstrBot', 'MuseBot', 'Mio-Chat', 'ChatGPT proxy', 'OpenAI API', 'QQ', 'Telegram']);
    expect(originLabel(undefined, t)).toBe('Web');
    expect(originLabel('matrix', t)).toBe('matrix');
  });
});

describe('failures', () => {
  it('a quota refusal before the stream gives the draft back', () => {
    const failure = failureOf(new ApiError(429, 'quota_exceeded', 'no tokens'), false, t);
    expect(failure).toEqual({ message: t('error.quota_exceeded'), reload: false, restoreDraft: true });
  });

  it('a lost connection reloads the conversation; the draft comes back only if nothing started', () => {
    expect(failureOf(new ApiError(0, 'network', 'down'), false, t)).toEqual({ message: t('error.networkShort'), reload: true, restoreDraft: true });
    expect(failureOf(new ApiError(0, 'network', 'lost'), true, t)).toEqual({ message: t('error.network'), reload: true, restoreDraft: false });
  });

  it('an upstream error event is told as such', () => {
    expect(streamFailureOf('upstream_unavailable', 'all providers down', t).message).toBe('The model provider failed to answer: all providers down');
  });
});

describe('message window', () => {
  it('shows the latest page and widens by pages', () => {
    expect(windowStart(1000, 50)).toBe(950);
    expect(windowStart(10, 50)).toBe(0);
    expect(widen(50, 1000)).toBe(100);
    expect(widen(980, 1000)).toBe(1000);
  });
});
