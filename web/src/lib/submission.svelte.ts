/**
 * One form's save: `busy` while it runs (the submit button is disabled), `error` when it was refused
 * — a check of the form's own or the server's answer, in the person's language. Every form dialog
 * saves the same way, so they share this instead of each writing its try/catch/finally.
 */
import { describeError } from './errors';
import type { I18n } from './i18n/index.svelte';

export class Submission {
  busy = $state(false);
  error = $state<string | null>(null);

  constructor(private readonly i18n: I18n) {}

  /** A form check failed: say so and save nothing. */
  refuse(message: string): void {
    this.error = message;
  }

  /** Runs one save, then `done` with what it answered; a refusal leaves the form open with `error` saying why. */
  async run<T>(save: () => Promise<T>, done: (saved: T) => void): Promise<void> {
    this.busy = true;
    this.error = null;
    let saved: T;
    try {
      saved = await save();
    } catch (failure) {
      this.error = describeError(failure, this.i18n.t);
      return;
    } finally {
      this.busy = false;
    }
    done(saved);
  }

  reset(): void {
    this.error = null;
  }
}
