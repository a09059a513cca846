/**
 * The interface language: English or Simplified Chinese. Follows navigator.language until the person
 * picks one (kept in localStorage). `t(key, params)` looks the key up in the current language, then
 * in English, then shows the key itself, so a missing translation is never a blank.
 */
import { en, type Dictionary, type MessageKey } from './en';
import { zhCN } from './zh-CN';

export type Locale = 'en' | 'zh-CN';

export const LOCALES: { id: Locale; label: string }[] = [
  { id: 'en', label: 'English' },
  { id: 'zh-CN', label: '简体中文' },
];

const DICTIONARIES: Record<Locale, Partial<Dictionary>> = { en, 'zh-CN': zhCN };
const KEY = 'switchboard.locale';

export function pickLocale(saved: string | null, browser: readonly string[]): Locale {
  if (saved === 'en' || saved === 'zh-CN') return saved;
  for (const language of browser) {
    const lower = language.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export function translate(
  locale: Locale,
  key: MessageKey,
  params: Record<string, string | number> = {},
  dictionaries: Record<Locale, Partial<Dictionary>> = DICTIONARIES,
): string {
  return fill(dictionaries[locale][key] ?? dictionaries.en[key] ?? key, params);
}

/** `{name}` placeholders -> params; unknown ones stay visible. Also used by the lazily loaded dictionaries. */
export function fill(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export class I18n {
  locale = $state<Locale>('en');

  constructor(private readonly storage: Storage | null = safeLocalStorage()) {
    const browser = globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en'];
    this.locale = pickLocale(this.storage?.getItem(KEY) ?? null, browser);
    this.apply();
  }

  t = (key: MessageKey, params?: Record<string, string | number>): string => translate(this.locale, key, params);

  set(locale: Locale): void {
    this.locale = locale;
    this.storage?.setItem(KEY, locale);
    this.apply();
  }

  /** en <-> zh-CN */
  toggle(): void {
    this.set(this.locale === 'en' ? 'zh-CN' : 'en');
  }

  private apply(): void {
    const root = globalThis.document?.documentElement;
    if (root) root.lang = this.locale;
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
