import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../types';
import { applyEvent, endTurn, newTurn, resumable, turnMessages } from './turn';

function run(events: StreamEvent[], text = 'hello') {
  const turn = newTurn(text);
  for (const event of events) applyEvent(turn, event);
  return turn;
}

const start: StreamEvent = { type: 'start', conversation_id: 'c1', message_id: 11, user_message_id: 10, model: 'gpt-test' };

describe('the stream reducer', () => {
  it('shows the user message at once and gives it its stored id on start', () => {
    const turn = newTurn('hello');
    expect(turnMessages(turn).map((m) => [m.role, m.text, m.id])).toEqual([['user', 'hello', null]]);
    applyEvent(turn, start);
    expect(turn.user?.id).toBe(10);
    expect(turn.answers).toMatchObject([{ id: 11, role: 'assistant', status: 'streaming', model: 'gpt-test' }]);
    expect(turn.conversationId).toBe('c1');
  });

  it('appends text and reasoning deltas, then takes the stored content and usage from done', () => {
    const turn = run([
      start,
      { type: 'reasoning', delta: 'let me ' },
      { type: 'reasoning', delta: 'think' },
      { type: 'text', delta: 'Hel' },
      { type: 'text', delta: 'lo' },
    ]);
    expect(turn.answers[0]).toMatchObject({ text: 'Hello', reasoning: 'let me think', status: 'streaming' });
    applyEvent(turn, { type: 'done', message_id: 11, content: 'Hello!', usage: { prompt_tokens: 5, completion_tokens: 2 } });
    expect(turn.answers[0]).toMatchObject({ text: 'Hello!', status: 'completed', usage: { prompt_tokens: 5, completion_tokens: 2 } });
    expect(turn.finished).toBe(true);
  });

  it('shows a tool call as a running card, then its result; words after it open a new message', () => {
    const turn = run([
      start,
      { type: 'text', delta: 'Looking.' },
      { type: 'tool_call', id: 'call_1', name: 'weather', arguments: { city: 'Paris' } },
      { type: 'tool_result', id: 'call_1', name: 'weather', result: { temp: 21 }, is_error: false },
      { type: 'text', delta: 'It is 21.' },
      { type: 'done', message_id: 12, content: 'It is 21.' },
    ]);
    expect(turn.answers).toHaveLength(2);
    expect(turn.answers[0].tools).toEqual([
      { id: 'call_1', name: 'weather', arguments: '{\n  "city": "Paris"\n}', result: '{\n  "temp": 21\n}', state: 'finished' },
    ]);
    expect(turn.answers[0]).toMatchObject({ text: 'Looking.', status: 'completed' });
    expect(turn.answers[1]).toMatchObject({ text: 'It is 21.', id: 12, status: 'completed' });
  });

  it('marks a failed tool and keeps text results as text', () => {
    const turn = run([
      start,
      { type: 'tool_call', id: 'c', name: 'code', arguments: 'not json' },
      { type: 'tool_result', id: 'c', name: 'code', result: 'boom', is_error: true },
    ]);
    expect(turn.answers[0].tools[0]).toMatchObject({ arguments: 'not json', result: 'boom', state: 'failed' });
  });

  it('an error event fails the streaming answer and keeps its words', () => {
    const turn = run([start, { type: 'text', delta: 'partial' }, { type: 'error', code: 'upstream_error', message: 'down' }]);
    expect(turn.error).toEqual({ code: 'upstream_error', message: 'down' });
    expect(turn.answers[0]).toMatchObject({ text: 'partial', status: 'failed', error: 'down' });
    expect(turn.finished).toBe(true);
  });

  it('Stop marks the partial answer interrupted and its running tools failed', () => {
    const turn = run([start, { type: 'text', delta: 'half' }, { type: 'tool_call', id: 't', name: 'x', arguments: {} }]);
    endTurn(turn, 'interrupted');
    expect(turn.answers[0]).toMatchObject({ text: 'half', status: 'interrupted' });
    expect(turn.answers[0].tools[0].state).toBe('failed');
  });

  it('a regenerate turn has no user message', () => {
    const turn = newTurn(null, [], 'c1');
    applyEvent(turn, { ...start, user_message_id: 0 });
    expect(turnMessages(turn).map((m) => m.role)).toEqual(['assistant']);
  });

  it('turnMessages copies, so a snapshot does not change with later events', () => {
    const turn = run([start, { type: 'text', delta: 'a' }]);
    const snapshot = turnMessages(turn);
    applyEvent(turn, { type: 'text', delta: 'b' });
    expect(snapshot[1].text).toBe('a');
    expect(turnMessages(turn).map((m) => m.key)).toEqual(['m10', 'm11']);
  });

  it('keys stay unique even if the server repeats an id', () => {
    const turn = run([start, { type: 'tool_call', id: 't', name: 'x', arguments: {} }, { type: 'done', message_id: 11, content: 'again' }]);
    const keys = turnMessages(turn).map((m) => m.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('knows which answer to resume until it has finished', () => {
    const turn = newTurn('hello');
    expect(resumable(turn)).toBeNull(); // nothing started: nothing to ask for
    applyEvent(turn, start);
    applyEvent(turn, { type: 'text', delta: 'Hel' });
    expect(resumable(turn)).toBe(11);
    applyEvent(turn, { type: 'done', message_id: 11, content: 'Hello' });
    expect(resumable(turn)).toBeNull();
  });

  it('a resumed stream that starts again continues the same answer, and done brings the stored words', () => {
    const turn = run([start, { type: 'text', delta: 'Hel' }]);
    // after the log expired the server sends the stored message: start, then done with its content
    applyEvent(turn, { ...start, user_message_id: 0 });
    applyEvent(turn, { type: 'done', message_id: 11, content: 'Hello there' });
    expect(turnMessages(turn).map((m) => [m.role, m.text, m.id])).toEqual([['user', 'hello', 10], ['assistant', 'Hello there', 11]]);
  });

  it('an answer that tools split keeps the first message id to resume', () => {
    const turn = run([
      start,
      { type: 'tool_call', id: 't1', name: 'clock', arguments: {}, message_id: 11 },
      { type: 'tool_result', id: 't1', name: 'clock', result: 'noon', is_error: false },
      { type: 'text', delta: 'It is noon' },
    ]);
    expect(turn.answers.length).toBe(2);
    expect(resumable(turn)).toBe(11);
  });
});
