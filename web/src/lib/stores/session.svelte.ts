/**
 * Who is signed in: the JWT and the user, in memory and mirrored to sessionStorage.
 *
 * Why sessionStorage: the native face issues bearer tokens, not cookies, so the browser never
 * attaches the credential by itself and there is no CSRF surface; sessionStorage is per tab and
 * gone when the tab closes, yet survives a reload. What could read it is injected script, and the
 * page's Content-Security-Policy forbids inline and foreign script (script-src 'self'), while every
 * piece of untrusted text goes through the one sanitising Markdown component.
 */
import type { SessionUser } from '../types';

const KEY = 'switchboard.session';

interface Saved {
  token: string;
  user: SessionUser;
}

export class Session {
  token = $state<string | null>(null);
  user = $state<SessionUser | null>(null);
  /** Why the last session ended, when the person did not choose to (shown on the login page). */
  ended = $state<'expired' | null>(null);

  constructor(private readonly storage: Storage | null = safeSessionStorage()) {
    const saved = this.read();
    if (saved) {
      this.token = saved.token;
      this.user = saved.user;
    }
  }

  get signedIn(): boolean {
    return this.token !== null;
  }

  get isAdmin(): boolean {
    return this.user?.role === 'admin';
  }

  signIn(token: string, user: SessionUser): void {
    this.token = token;
    this.user = user;
    this.ended = null;
    this.storage?.setItem(KEY, JSON.stringify({ token, user } satisfies Saved));
  }

  clear(reason: 'expired' | null = null): void {
    this.ended = reason;
    this.token = null;
    this.user = null;
    this.storage?.removeItem(KEY);
  }

  private read(): Saved | null {
    try {
      const saved = JSON.parse(this.storage?.getItem(KEY) ?? 'null') as Saved | null;
      return saved && typeof saved.token === 'string' && saved.user ? saved : null;
    } catch {
      return null;
    }
  }
}

function safeSessionStorage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled: the session lives in memory only
  }
}
