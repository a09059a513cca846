import { describe, expect, it } from 'vitest';
import { checkKeyForm, checkMcpForm, parseEnv, parseLimit, parseList, parseSetting, parseTokens } from './forms';

describe('limits and lists', () => {
  it('reads an empty limit as none and refuses what is not a whole number >= 1', () => {
    expect(parseLimit('  ')).toBeNull();
    expect(parseLimit('60')).toBe(60);
    expect(['0', '-1', '1.5', 'ten', '1e3', '99999999999999999999'].map(parseLimit)).toEqual(Array(6).fill(undefined));
  });

  it('splits model lists on commas and lines, without blanks or repeats', () => {
    expect(parseList(' gpt-4o, ,mini\nmini\n')).toEqual(['gpt-4o', 'mini']);
  });

  it('accepts token counts written with separators, refuses negatives', () => {
    expect(parseTokens('1,000_000')).toBe(1_000_000);
    expect(parseTokens('0')).toBe(0);
    expect(parseTokens('-5')).toBeUndefined();
  });
});

describe('checkKeyForm', () => {
  const form = { name: ' ci ', models: 'a, b', rpm: '', tpm: '1000', quota: '' };

  it('builds the body the API takes', () => {
    expect(checkKeyForm(form)).toEqual({
      ok: true,
      value: { name: 'ci', allowed_models: ['a', 'b'], rpm_limit: null, tpm_limit: 1000, token_quota: null },
    });
  });

  it('gives a new key its days until expiry, none when empty', () => {
    expect(checkKeyForm({ ...form, expires: '30' })).toMatchObject({ ok: true, value: { expires_days: 30 } });
    expect(checkKeyForm({ ...form, expires: '' })).toMatchObject({ ok: true, value: { expires_days: null } });
    expect(checkKeyForm({ ...form, expires: 'soon' })).toEqual({ ok: false, field: 'expires', error: 'form.positiveOrEmpty' });
  });

  it('gives a new key its scopes in a stable order, and at least one', () => {
    expect(checkKeyForm({ ...form, scopes: ['file', 'chat'] })).toMatchObject({ ok: true, value: { scopes: ['chat', 'file'] } });
    expect(checkKeyForm({ ...form, scopes: [] })).toEqual({ ok: false, field: 'scopes', error: 'keys.scopesNeeded' });
    expect(checkKeyForm(form)).toMatchObject({ ok: true, value: { name: 'ci' } });
    expect('scopes' in (checkKeyForm(form) as { value: object }).value).toBe(false);
  });

  it('names the wrong field', () => {
    expect(checkKeyForm({ ...form, name: '  ' })).toEqual({ ok: false, field: 'name', error: 'form.required' });
    expect(checkKeyForm({ ...form, quota: '0' })).toEqual({ ok: false, field: 'quota', error: 'form.positiveOrEmpty' });
  });
});

describe('checkMcpForm', () => {
  const stdio = { name: 'files', kind: 'stdio' as const, command: ' python ', args: '-m\nserver\n', env: 'TOKEN=***\n', url: '', description: '' };

  it('builds a stdio entry with its arguments and environment', () => {
    expect(checkMcpForm(stdio)).toEqual({
      ok: true,
      value: { name: 'files', body: { transport: 'stdio', command: 'python', args: ['-m', 'server'], env: { TOKEN: '***' }, description: '' } },
    });
  });

  it('refuses bad names, environment lines and URLs', () => {
    expect(checkMcpForm({ ...stdio, name: 'bad name' })).toMatchObject({ ok: false, field: 'name' });
    expect(checkMcpForm({ ...stdio, env: 'NOEQUALS' })).toMatchObject({ ok: false, field: 'env' });
    expect(checkMcpForm({ ...stdio, command: '' })).toMatchObject({ ok: false, field: 'command' });
    expect(checkMcpForm({ ...stdio, kind: 'http', url: 'javascript:alert(1)' })).toMatchObject({ ok: false, field: 'url' });
    expect(checkMcpForm({ ...stdio, kind: 'http', url: 'https://mcp.example/mcp' })).toMatchObject({ ok: true });
  });

  it('reads KEY=value lines, keeping = inside values', () => {
    expect(parseEnv('A=1\n B = x=y \n')).toEqual({ A: '1', B: 'x=y' });
    expect(parseEnv('=nokey')).toBeNull();
  });
});

describe('parseSetting', () => {
  it('types the text like the current value', () => {
    expect(parseSetting(8, '12')).toBe(12);
    expect(parseSetting(null, '0.7')).toBe(0.7);
    expect(parseSetting('gpt-image-1', '42')).toBe('42');
    expect(parseSetting(null, 'gpt-4o')).toBe('gpt-4o');
    expect(parseSetting('x', '  ')).toBeNull();
  });
});
