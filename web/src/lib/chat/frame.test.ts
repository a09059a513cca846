import { describe, expect, it } from 'vitest';
import { FrameBatcher, type FrameSource } from './frame';

class ManualFrames implements FrameSource {
  callbacks = new Map<number, () => void>();
  private next = 1;
  request = (callback: () => void): number => {
    this.callbacks.set(this.next, callback);
    return this.next++;
  };
  cancel = (handle: number): void => {
    this.callbacks.delete(handle);
  };
  tick(): void {
    const due = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const callback of due) callback();
  }
}

describe('FrameBatcher', () => {
  it('flushes many scheduled changes once per frame', () => {
    const frames = new ManualFrames();
    let flushes = 0;
    const batcher = new FrameBatcher(() => flushes++, frames);
    for (let i = 0; i < 500; i++) batcher.schedule();
    expect(flushes).toBe(0);
    expect(batcher.pending).toBe(true);
    frames.tick();
    expect(flushes).toBe(1);
    frames.tick();
    expect(flushes).toBe(1);
    batcher.schedule();
    frames.tick();
    expect(flushes).toBe(2);
  });

  it('flushNow applies at once and drops the pending frame', () => {
    const frames = new ManualFrames();
    let flushes = 0;
    const batcher = new FrameBatcher(() => flushes++, frames);
    batcher.schedule();
    batcher.flushNow();
    expect(flushes).toBe(1);
    frames.tick();
    expect(flushes).toBe(1);
    expect(batcher.pending).toBe(false);
  });
});
