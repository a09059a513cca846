import { describe, expect, it } from 'vitest';
import { compact, dayBars, daysCovered, niceMax, rankedBars, rowLabel, totalsOf } from './usage';
import type { UsageRow } from './types';

const row = (extra: Partial<UsageRow>, tokens: number, requests = 1): UsageRow => ({
  requests, prompt_tokens: tokens - 1, completion_tokens: 1, total_tokens: tokens, estimated_requests: 0, ...extra,
});

describe('daysCovered', () => {
  it('counts from the day of `since` through today, both included', () => {
    const now = new Date('2026-12-05T07:00:00Z');
    expect(daysCovered('2026-11-28T07:00:00+00:00', now)).toEqual([
      '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05',
    ]);
  });

  it('crosses months and years in UTC', () => {
    expect(daysCovered('2025-12-31T23:30:00Z', new Date('2026-01-01T00:10:00Z'))).toEqual(['2025-12-31', '2026-01-01']);
  });

  it('falls back to today for a since in the future or unreadable', () => {
    const now = new Date('2026-12-05T07:00:00Z');
    expect(daysCovered('2027-01-01T00:00:00Z', now)).toEqual(['2026-12-05']);
    expect(daysCovered('not a date', now)).toEqual(['2026-12-05']);
  });
});

describe('dayBars', () => {
  it('puts a zero column on days without usage', () => {
    const bars = dayBars([row({ day: '2026-12-04' }, 50, 2)], '2026-12-03T10:00:00Z', new Date('2026-12-05T09:00:00Z'));
    expect(bars).toEqual([
      { label: '2026-12-03', tokens: 0, requests: 0 },
      { label: '2026-12-04', tokens: 50, requests: 2 },
      { label: '2026-12-05', tokens: 0, requests: 0 },
    ]);
  });
});

describe('rowLabel', () => {
  const names = new Map([[7, 'alice']]);
  it('names users, keys and models, with a fallback for the missing ones', () => {
    expect(rowLabel(row({ user: 7 }, 1), 'user', names, '—')).toBe('alice');
    expect(rowLabel(row({ user: 9 }, 1), 'user', names, '—')).toBe('#9');
    expect(rowLabel(row({ key_id: 'k1', name: 'ci' }, 1), 'key', names, '—')).toBe('ci');
    expect(rowLabel(row({ key_id: 'k2', name: null }, 1), 'key', names, '—')).toBe('k2');
    expect(rowLabel(row({ key_id: null }, 1), 'key', names, '(session)')).toBe('(session)');
    expect(rowLabel(row({ model: '' }, 1), 'model', names, '—')).toBe('—');
  });
});

describe('rankedBars', () => {
  const bars = [5, 40, 10, 30, 20].map((tokens, i) => ({ label: `m${i}`, tokens, requests: 1 }));

  it('sorts by tokens and keeps everything under the limit', () => {
    expect(rankedBars(bars, 5, 'other').map((bar) => bar.tokens)).toEqual([40, 30, 20, 10, 5]);
  });

  it('sums the tail into one bar', () => {
    expect(rankedBars(bars, 3, 'other')).toEqual([
      { label: 'm1', tokens: 40, requests: 1 },
      { label: 'm3', tokens: 30, requests: 1 },
      { label: 'other', tokens: 35, requests: 3 },
    ]);
  });
});

describe('totals and scales', () => {
  it('adds every column', () => {
    expect(totalsOf([row({}, 10, 2), row({}, 5, 1)])).toEqual({
      requests: 3, prompt_tokens: 13, completion_tokens: 2, total_tokens: 15, estimated_requests: 0,
    });
  });

  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 10, 11, 180, 201, 4999, 5001].map(niceMax)).toEqual([1, 1, 5, 10, 20, 200, 500, 5000, 10000]);
  });

  it('writes big counts compactly', () => {
    expect([950, 1000, 12_345, 4_500_000, 2e9].map(compact)).toEqual(['950', '1k', '12.3k', '4.5M', '2G']);
  });
});
