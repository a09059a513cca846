import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

function feed(chunks: string[]) {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

describe('SseParser', () => {
  it('reads named events with JSON data', () => {
    expect(feed(['event: text\ndata: {"delta":"hi"}\n\n'])).toEqual([{ event: 'text', data: '{"delta":"hi"}' }]);
  });

  it('joins a frame split anywhere across chunks, even inside a CRLF', () => {
    const wire = 'event: start\r\ndata: {"a":1}\r\n\r\nevent: text\r\ndata: {"delta":"é"}\r\n\r\n';
    const whole = feed([wire]);
    for (let cut = 1; cut < wire.length; cut++) {
      expect(feed([wire.slice(0, cut), wire.slice(cut)])).toEqual(whole);
    }
    expect(whole).toHaveLength(2);
    expect(feed(wire.split(''))).toEqual(whole);
  });

  it('joins several data lines with a newline', () => {
    expect(feed(['data: one\ndata: two\ndata:three\n\n'])).toEqual([{ event: 'message', data: 'one\ntwo\nthree' }]);
  });

  it('ignores comments and heartbeats, and blank lines without data', () => {
    expect(feed([': ping\n\n', ':\n\n', 'event: text\n: inside\ndata: x\n\n'])).toEqual([{ event: 'text', data: 'x' }]);
  });

  it('accepts bare CR line ends and keeps the last id', () => {
    expect(feed(['id: 7\revent: done\rdata: {}\r\r'])).toEqual([{ event: 'done', data: '{}', id: '7' }]);
  });

  it('does not dispatch a frame that never got its blank line', () => {
    const parser = new SseParser();
    expect(parser.push('event: text\ndata: partial\n')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });
});
