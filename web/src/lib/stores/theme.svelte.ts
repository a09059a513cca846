/**
 * Light or dark: follows the system (prefers-color-scheme) until the person picks one, which is kept
 * in localStorage. The colours are CSS variables in app.css, switched by `data-theme` on <html>.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'switchboard.theme';
const ORDER: ThemeChoice[] = ['system', 'light', 'dark'];

export class Theme {
  choice = $state<ThemeChoice>('system');

  constructor(private readonly storage: Storage | null = safeLocalStorage()) {
    const saved = this.storage?.getItem(KEY);
    if (saved === 'light' || saved === 'dark') this.choice = saved;
    this.apply();
  }

  /** system -> light -> dark -> system */
  cycle(): void {
    this.set(ORDER[(ORDER.indexOf(this.choice) + 1) % ORDER.length]);
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    if (choice === 'system') this.storage?.removeItem(KEY);
    else this.storage?.setItem(KEY, choice);
    this.apply();
  }

  private apply(): void {
    const root = globalThis.document?.documentElement;
    if (!root) return;
    if (this.choice === 'system') root.removeAttribute('data-theme');
    else root.dataset.theme = this.choice;
  }
}

export function safeLocalStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
