/**
 * Coalesces many changes into one update per animation frame: a stream delivers hundreds of deltas
 * a second, and rendering markdown for each would make the page fall behind the server. `schedule()`
 * may be called for every event; `flush` runs at most once per frame, with the latest state.
 * The frame source is injectable so tests drive frames by hand.
 */
export interface FrameSource {
  request: (callback: () => void) => number;
  cancel: (handle: number) => void;
}

const animationFrames: FrameSource = {
  request: (callback) => requestAnimationFrame(() => callback()),
  cancel: (handle) => cancelAnimationFrame(handle),
};

export class FrameBatcher {
  private handle: number | null = null;

  constructor(
    private readonly flush: () => void,
    private readonly frames: FrameSource = animationFrames,
  ) {}

  get pending(): boolean {
    return this.handle !== null;
  }

  schedule(): void {
    if (this.handle !== null) return;
    this.handle = this.frames.request(() => {
      this.handle = null;
      this.flush();
    });
  }

  /** Apply what is pending now (the turn ended: its last words must not wait for a frame). */
  flushNow(): void {
    this.cancel();
    this.flush();
  }

  cancel(): void {
    if (this.handle !== null) this.frames.cancel(this.handle);
    this.handle = null;
  }
}
