/**
 * A Server-Sent Events parser fed with arbitrary chunks of text (as a network stream delivers them:
 * split anywhere, even inside a line or a CRLF). It follows the WHATWG event-stream rules that matter
 * here: `event:` names the frame, several `data:` lines join with "\n", a blank line dispatches,
 * lines starting with ":" are comments (the server's `: ping` heartbeats) and are ignored.
 */

export interface SseFrame {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private pendingCR = false;

  /** Feed one chunk; returns the frames it completed (possibly none). */
  push(chunk: string): SseFrame[] {
    const frames: SseFrame[] = [];
    let text = chunk;
    // a CR at the end of the previous chunk may be the first half of a CRLF
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.line(this.buffer.slice(start, i), frames);
      if (ch === 13) {
        if (i + 1 === this.buffer.length) this.pendingCR = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return frames;
  }

  /** The stream ended: a frame without its final blank line is dropped, as the spec says. */
  end(): SseFrame[] {
    this.buffer = '';
    this.data = [];
    this.event = '';
    return [];
  }

  private line(line: string, frames: SseFrame[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        const frame: SseFrame = { event: this.event || 'message', data: this.data.join('\n') };
        if (this.id !== undefined) frame.id = this.id;
        frames.push(frame);
      }
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // a comment: heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.id = value;
    // `retry` and unknown fields: ignored (the chat resumes by hand with the last id, see Api.resume)
  }
}
