/** Dates and numbers as the console shows them, in the person's language. */
import type { Locale } from '../i18n/index.svelte';

export function formatWhen(iso: string | null | undefined, locale: Locale, none = '—'): string {
  if (!iso) return none;
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  return moment.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatCount(value: number | null | undefined, locale: Locale, none = '—'): string {
  return value === null || value === undefined ? none : value.toLocaleString(locale);
}
