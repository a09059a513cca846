import { describe, expect, it } from 'vitest';
import { adminTranslator } from './i18n';
import { adminEn } from './strings.en';
import { adminZhCN } from './strings.zh-CN';

describe('the admin dictionaries', () => {
  it('translate every English string that has words into Chinese, with the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, english] of Object.entries(adminEn)) {
      if (!/[A-Za-z]{2}/.test(english)) continue; // "—" needs no translation
      const chinese = adminZhCN[key as keyof typeof adminEn];
      expect(chinese, key).toBeTruthy();
      expect(placeholders(chinese ?? ''), key).toEqual(placeholders(english));
    }
  });

  it('follows the language, falls back to English, fills placeholders', () => {
    const t = adminTranslator({ locale: 'zh-CN' });
    expect(t('keys.revoke', { name: 'ci' })).toBe('吊销 ci');
    expect(t('common.none')).toBe('—');
    expect(adminTranslator({ locale: 'en' })('keys.revoke', { name: 'ci' })).toBe('Revoke ci');
  });
});
