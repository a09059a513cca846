/**
 * Where a conversation started: the web app, another face (AstrBot, MuseBot, Mio-Chat, the ChatGPT
 * proxy, the OpenAI API) or an IM platform. The label is translated; an origin this build does not
 * know yet is shown as the server spells it rather than hidden.
 */
import type { MessageKey } from '../i18n/en';
import type { Origin } from '../types';

const KNOWN: Record<string, MessageKey> = {
  native: 'origin.native',
  web: 'origin.native',
  astrbot: 'origin.astrbot',
  musebot: 'origin.musebot',
  miochat: 'origin.miochat',
  chatgpt_proxy: 'origin.chatgpt_proxy',
  openai: 'origin.openai',
  onebot: 'origin.onebot',
  onebot11: 'origin.onebot',
  qq: 'origin.onebot',
  telegram: 'origin.telegram',
};

export function originLabel(origin: Origin | undefined | null, t: (key: MessageKey) => string): string {
  const id = (origin ?? 'native').toLowerCase();
  const key = KNOWN[id];
  return key ? t(key) : id;
}
