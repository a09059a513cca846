import { describe, expect, it } from 'vitest';
import { en, type MessageKey } from '../i18n/en';
import { zhCN } from '../i18n/zh-CN';

/** The chat page's own strings (the app's shared dictionary, by prefix). */
const CHAT = /^(chat|tool|usage|error)\./;

describe('the chat page strings', () => {
  it('are all in Chinese too, with the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, english] of Object.entries(en)) {
      const words = english.replace(/\{\w+\}/g, ''); // "{message}" alone needs no translation
      if (!CHAT.test(key) || !/[A-Za-z]{2}/.test(words)) continue;
      const chinese = zhCN[key as MessageKey];
      expect(chinese, key).toBeTruthy();
      expect(placeholders(chinese ?? ''), key).toEqual(placeholders(english));
    }
  });
});
