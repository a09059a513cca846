/**
 * Long conversations render only their latest messages: 1,000 messages of markdown would make the
 * first paint and every scroll slow. "Load earlier messages" widens the window a page at a time.
 */
export const WINDOW_PAGE = 50;

export function windowStart(total: number, shown: number): number {
  return Math.max(0, total - Math.max(shown, 0));
}

export function widen(shown: number, total: number, page = WINDOW_PAGE): number {
  return Math.min(total, shown + page);
}
