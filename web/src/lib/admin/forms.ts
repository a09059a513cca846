/**
 * Reading the console's forms: text fields -> the API's bodies, or the field that is wrong and why
 * (an i18n key of the admin dictionary). The server validates again; this only spares a round trip
 * and points at the field.
 */
import type { AdminKey } from './i18n';
import type { KeyBody, McpServerBody, SettingValue } from './types';

export type Checked<T> = { ok: true; value: T } | { ok: false; field: string; error: AdminKey };

/** "" -> null (no limit), else a whole number >= 1. */
export function parseLimit(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value >= 1 && Number.isSafeInteger(value) ? value : undefined;
}

/** Comma- or line-separated names, trimmed, empty ones and repeats dropped. */
export function parseList(text: string): string[] {
  return [...new Set(text.split(/[,\n]/).map((part) => part.trim()).filter(Boolean))];
}

export interface KeyForm {
  name: string;
  models: string;
  rpm: string;
  tpm: string;
  quota: string;
  /** Days until the key stops working, and what it may do: only when creating one (neither changes). */
  expires?: string;
  scopes?: Scope[];
}

export type Scope = NonNullable<KeyBody['scopes']>[number];
/** What a key may do, in the order the form offers them; `admin` only to administrators. */
export const SCOPES: readonly Scope[] = ['chat', 'file', 'config', 'im', 'keys', 'admin'];

export type KeyLimits = Required<Pick<KeyBody, 'name' | 'allowed_models' | 'rpm_limit' | 'tpm_limit' | 'token_quota'>> &
  Pick<KeyBody, 'expires_days' | 'scopes'>;

export function checkKeyForm(form: KeyForm): Checked<KeyLimits> {
  const name = form.name.trim();
  if (!name) return { ok: false, field: 'name', error: 'form.required' };
  if (name.length > 100) return { ok: false, field: 'name', error: 'form.tooLong' };
  const limits: Record<'rpm' | 'tpm' | 'quota' | 'expires', number | null> = { rpm: null, tpm: null, quota: null, expires: null };
  for (const field of ['rpm', 'tpm', 'quota', 'expires'] as const) {
    const value = parseLimit(form[field] ?? '');
    if (value === undefined) return { ok: false, field, error: 'form.positiveOrEmpty' };
    limits[field] = value;
  }
  if (form.scopes && form.scopes.length === 0) return { ok: false, field: 'scopes', error: 'keys.scopesNeeded' };
  return {
    ok: true,
    value: {
      name, allowed_models: parseList(form.models),
      rpm_limit: limits.rpm, tpm_limit: limits.tpm, token_quota: limits.quota,
      ...(form.expires === undefined ? {} : { expires_days: limits.expires }),
      ...(form.scopes === undefined ? {} : { scopes: SCOPES.filter((scope) => form.scopes?.includes(scope)) }),
    },
  };
}

export interface McpForm {
  name: string;
  kind: 'stdio' | 'http' | 'sse';
  command: string;
  args: string;
  env: string;
  url: string;
  description: string;
}

const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** `KEY=value` per line -> a map; a line without `=` is an error. Masked values (***) pass through:
 *  the server keeps the stored secret for them. */
export function parseEnv(text: string): Record<string, string> | null {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at < 1) return null;
    env[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return env;
}

export function checkMcpForm(form: McpForm): Checked<{ name: string; body: McpServerBody }> {
  const name = form.name.trim();
  if (!SERVER_NAME.test(name)) return { ok: false, field: 'name', error: 'mcp.badName' };
  const description = form.description.trim();
  if (form.kind === 'stdio') {
    if (!form.command.trim()) return { ok: false, field: 'command', error: 'form.required' };
    const env = parseEnv(form.env);
    if (env === null) return { ok: false, field: 'env', error: 'mcp.badEnv' };
    const args = form.args.split('\n').map((a) => a.trim()).filter(Boolean);
    return { ok: true, value: { name, body: { transport: 'stdio', command: form.command.trim(), args, env, description } } };
  }
  const url = form.url.trim();
  if (!/^https?:\/\/\S+$/i.test(url)) return { ok: false, field: 'url', error: 'mcp.badUrl' };
  return { ok: true, value: { name, body: { transport: form.kind, url, description } } };
}

/** A setting's text field -> its value, typed like the current value: "" is null (the default), a
 *  number stays a number, anything else is text. Booleans have checkboxes and never come here. */
export function parseSetting(current: SettingValue, text: string): SettingValue {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if ((current === null || typeof current === 'number') && /^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  return trimmed;
}

/** A whole number of tokens >= 0 (allowances may be 0), or undefined when the text is not one. */
export function parseTokens(text: string): number | undefined {
  const trimmed = text.trim().replace(/[_,\s]/g, '');
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}
