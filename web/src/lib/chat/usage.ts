/** Token counts for the page: a conversation's usage and the person's remaining allowance. */
import type { TokenUsage, UsageReport } from '../types';
import type { ChatMessage } from './view';

export interface UsageSum {
  prompt: number;
  completion: number;
}

/** The conversation's usage: the sum over its messages (each answer carries its own). */
export function sumUsage(messages: readonly Pick<ChatMessage, 'usage'>[]): UsageSum {
  const sum: UsageSum = { prompt: 0, completion: 0 };
  for (const { usage } of messages) {
    if (!usage) continue;
    sum.prompt += usage.prompt_tokens || 0;
    sum.completion += usage.completion_tokens || 0;
  }
  return sum;
}

export type Allowance = { kind: 'unlimited' } | { kind: 'remaining'; tokens: number } | { kind: 'unknown' };

/** GET /api/usage -> what is left to spend (a server without the fields says nothing). */
export function allowanceOf(report: UsageReport | null): Allowance {
  if (!report) return { kind: 'unknown' };
  if (report.unlimited) return { kind: 'unlimited' };
  if (typeof report.tokens_remaining === 'number') return { kind: 'remaining', tokens: Math.max(0, report.tokens_remaining) };
  return { kind: 'unknown' };
}

export function formatTokens(tokens: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(tokens);
}

export function addUsage(sum: UsageSum, usage: TokenUsage | null): UsageSum {
  return usage ? { prompt: sum.prompt + usage.prompt_tokens, completion: sum.completion + usage.completion_tokens } : sum;
}
