/**
 * The conversation list: newest first (the server orders by last activity), searched by title on
 * the server (`?q=`), a page at a time ("Load more"). A newer search always wins over an older one
 * that answers late.
 */
import type { Api } from '../api';
import type { ConversationOut } from '../types';

export const LIST_PAGE = 30;

export class ConversationList {
  items = $state<ConversationOut[]>([]);
  total = $state(0);
  query = $state('');
  loading = $state(false);
  error = $state<unknown>(null);
  private page = 0;
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly pageSize = LIST_PAGE,
  ) {}

  get hasMore(): boolean {
    return this.items.length < this.total;
  }

  /** The first page again, for `query` (the search box) or the current one. */
  async reload(query: string = this.query): Promise<void> {
    this.query = query;
    this.page = 0;
    await this.fetch(true);
  }

  async more(): Promise<void> {
    if (this.loading || !this.hasMore) return;
    await this.fetch(false);
  }

  private async fetch(fresh: boolean): Promise<void> {
    const generation = ++this.generation;
    const page = fresh ? 1 : this.page + 1;
    this.loading = true;
    this.error = null;
    try {
      const q = this.query.trim() || undefined;
      const data = await this.api.conversations({ page, page_size: this.pageSize, q });
      if (generation !== this.generation) return;
      // a conversation that moved between pages (someone wrote in it) is listed once
      const known = new Set(fresh ? [] : this.items.map((item) => item.id));
      const added = data.items.filter((item) => !known.has(item.id));
      this.items = fresh ? data.items : [...this.items, ...added];
      this.total = data.total;
      this.page = page;
    } catch (error) {
      if (generation === this.generation) this.error = error;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  /** A conversation created or written in here: it moves to the top. */
  touch(conversation: ConversationOut): void {
    const known = this.items.some((item) => item.id === conversation.id);
    if (!known && this.query.trim()) return; // a search shows only what the server matched
    this.items = [conversation, ...this.items.filter((item) => item.id !== conversation.id)];
    if (!known) this.total += 1;
  }

  async rename(id: string, title: string): Promise<ConversationOut> {
    const updated = await this.api.updateConversation(id, { title });
    this.items = this.items.map((item) => (item.id === id ? updated : item));
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.api.deleteConversation(id);
    const before = this.items.length;
    this.items = this.items.filter((item) => item.id !== id);
    this.total -= before - this.items.length;
  }
}
