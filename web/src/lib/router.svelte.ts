/**
 * A tiny router over history.pushState. The server answers index.html for every non-API path, so a
 * deep link (/c/abc, /admin/users) opens the right screen after a reload.
 */
export type Route =
  | { name: 'login' }
  | { name: 'register' }
  | { name: 'chat'; conversationId: string | null }
  | { name: 'admin'; section: string | null }
  | { name: 'keys' }
  | { name: 'not-found'; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'chat', conversationId: null };
  if (path === '/login') return { name: 'login' };
  if (path === '/register') return { name: 'register' };
  if (path === '/admin') return { name: 'admin', section: null };
  if (path === '/keys') return { name: 'keys' };
  const conversation = /^\/c\/([^/]+)$/.exec(path);
  if (conversation) return { name: 'chat', conversationId: decodeURIComponent(conversation[1]) };
  const admin = /^\/admin\/([^/]+)$/.exec(path);
  if (admin) return { name: 'admin', section: decodeURIComponent(admin[1]) };
  return { name: 'not-found', path };
}

export function conversationPath(id: string): string {
  return `/c/${encodeURIComponent(id)}`;
}

export class Router {
  route = $state<Route>({ name: 'chat', conversationId: null });

  constructor() {
    this.route = parseRoute(location.pathname);
    addEventListener('popstate', () => {
      this.route = parseRoute(location.pathname);
    });
  }

  navigate(path: string, options: { replace?: boolean } = {}): void {
    const url = new URL(path, location.origin);
    if (url.pathname + url.search !== location.pathname + location.search) {
      if (options.replace) history.replaceState(null, '', url);
      else history.pushState(null, '', url);
    }
    this.route = parseRoute(url.pathname);
  }

  /** onclick of an <a href>: plain left clicks stay in the app; ctrl/middle clicks open a tab as usual. */
  follow = (event: MouseEvent): void => {
    const anchor = event.currentTarget as HTMLAnchorElement;
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    this.navigate(anchor.pathname);
  };
}
