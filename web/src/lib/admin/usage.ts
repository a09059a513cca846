/**
 * The arithmetic behind the usage charts: which UTC days a period covers, rows -> bars (labels, top
 * few plus "other"), totals, a readable axis maximum and compact token counts. Pure functions, so
 * vitest checks them without a browser.
 */
import type { UsageTotals } from '../types';
import type { UsageBy, UsageRow } from './types';

/** The periods offered, in days back from now (the API's `days`, 1-366). */
export const PERIODS = [1, 7, 30, 90, 365] as const;

export interface Bar {
  label: string;
  tokens: number;
  requests: number;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a moment, in UTC (the server groups the ledger by UTC day). */
export function utcDay(moment: Date): string {
  return moment.toISOString().slice(0, 10);
}

/**
 * Every UTC day from `since` through `now`, both included: the server counts from `now - days`, so a
 * 7-day period usually touches 8 calendar days. Days without usage still get a (zero) column.
 */
export function daysCovered(since: string | Date, now: Date): string[] {
  const start = new Date(since);
  if (Number.isNaN(start.getTime()) || start > now) return [utcDay(now)];
  const days: string[] = [];
  let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  const last = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (; day <= last; day += DAY_MS) days.push(utcDay(new Date(day)));
  return days;
}

/** One column per covered day, zero where the ledger has nothing. */
export function dayBars(rows: UsageRow[], since: string, now: Date): Bar[] {
  const byDay = new Map(rows.map((row) => [row.day ?? '', row]));
  return daysCovered(since, now).map((day) => {
    const row = byDay.get(day);
    return { label: day, tokens: row?.total_tokens ?? 0, requests: row?.requests ?? 0 };
  });
}

/** What a row of a non-day grouping is called on its bar. */
export function rowLabel(
  row: UsageRow,
  by: Exclude<UsageBy, 'day'>,
  usernames: ReadonlyMap<number, string>,
  none: string,
): string {
  if (by === 'model') return row.model || none;
  if (by === 'user') return row.user === undefined ? none : (usernames.get(row.user) ?? `#${row.user}`);
  if (!row.key_id) return none; // calls made with a login session, not a key
  return row.name || row.key_id;
}

/** Bars sorted by tokens, the biggest `limit - 1` kept and the rest summed into one `other` bar. */
export function rankedBars(bars: Bar[], limit: number, other: string): Bar[] {
  const sorted = [...bars].sort((a, b) => b.tokens - a.tokens || a.label.localeCompare(b.label));
  if (sorted.length <= limit) return sorted;
  const kept = sorted.slice(0, limit - 1);
  const rest = sorted.slice(limit - 1);
  kept.push({
    label: other,
    tokens: rest.reduce((sum, bar) => sum + bar.tokens, 0),
    requests: rest.reduce((sum, bar) => sum + bar.requests, 0),
  });
  return kept;
}

export function totalsOf(rows: UsageTotals[]): UsageTotals {
  const total = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, estimated_requests: 0 };
  for (const row of rows) {
    total.requests += row.requests;
    total.prompt_tokens += row.prompt_tokens;
    total.completion_tokens += row.completion_tokens;
    total.total_tokens += row.total_tokens;
    total.estimated_requests += row.estimated_requests;
  }
  return total;
}

/** The axis maximum: the smallest 1, 2 or 5 × 10^k at or above the biggest value (at least 1). */
export function niceMax(value: number): number {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/** 950 -> "950", 12_300 -> "12.3k", 4_500_000 -> "4.5M": axis labels that fit on a phone. */
export function compact(value: number): string {
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, suffix] of units) {
    if (Math.abs(value) >= size) return `${trim((value / size).toFixed(1))}${suffix}`;
  }
  return String(value);
}

function trim(fixed: string): string {
  return fixed.endsWith('.0') ? fixed.slice(0, -2) : fixed;
}
