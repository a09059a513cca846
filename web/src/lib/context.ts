/**
 * The app's shared state, built once in main.ts and handed to components through Svelte's context
 * (no module-level singletons: a test can build its own).
 */
import { getContext } from 'svelte';
import { Api } from './api';
import { I18n } from './i18n/index.svelte';
import { Router } from './router.svelte';
import { Session } from './stores/session.svelte';
import { Theme } from './stores/theme.svelte';

export interface AppContext {
  api: Api;
  session: Session;
  i18n: I18n;
  theme: Theme;
  router: Router;
}

const KEY = Symbol('switchboard');

export function createAppContext(): AppContext {
  const session = new Session();
  const router = new Router();
  const api = new Api({
    token: () => session.token,
    onUnauthorized: () => {
      session.clear('expired');
      router.navigate('/login', { replace: true });
    },
  });
  return { api, session, i18n: new I18n(), theme: new Theme(), router };
}

/** For mount(App, { context }): the app's state, under the key useApp() reads. */
export function appContextMap(context: AppContext): Map<symbol, AppContext> {
  return new Map([[KEY, context]]);
}

export function useApp(): AppContext {
  return getContext<AppContext>(KEY);
}
