/**
 * The admin console's and keys screen's strings live in their own dictionaries, loaded with their
 * chunk, so the chat page does not download them. Same rules as the app's i18n: the current
 * language, then English, then the key itself.
 */
import { useApp } from '../context';
import { fill, type I18n } from '../i18n/index.svelte';
import { adminEn, type AdminKey } from './strings.en';
import { adminZhCN } from './strings.zh-CN';

export type { AdminKey };
export type AdminTranslate = (key: AdminKey, params?: Record<string, string | number>) => string;

export function adminTranslator(i18n: Pick<I18n, 'locale'>): AdminTranslate {
  return (key, params) => fill((i18n.locale === 'zh-CN' ? adminZhCN[key] : undefined) ?? adminEn[key] ?? key, params);
}

/** For components: `const t = useAdminT();` then `t('keys.create')`, reactive to the language. */
export function useAdminT(): AdminTranslate {
  return adminTranslator(useApp().i18n);
}
