// The Schedules screen's time and status wording, run outside the window (tests/ui_logic.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const src = readFileSync(new URL('../../ui/js/when.js', import.meta.url), 'utf8');
const when = await import(`data:text/javascript,${encodeURIComponent(src)}`);

test('relative times', () => {
  const now = 1_800_000_000_000;
  assert.equal(when.relative(now, now), 'now');
  assert.equal(when.relative(now + 40_000, now), 'in 40 s');
  assert.equal(when.relative(now + 5 * 60_000, now), 'in 5 min');
  assert.equal(when.relative(now + (2 * 3600 + 5 * 60) * 1000, now), 'in 2 h 05 min');
  assert.equal(when.relative(now + 3 * 86_400_000, now), 'in 3 days');
  assert.equal(when.relative(now - 5 * 60_000, now), '5 min ago');
});

test('the next send in the user zone, and the schedule zone only where it differs', () => {
  // 2026-03-29T01:30:00Z: 03:30 in Berlin on the spring-forward night, 02:30 in London.
  const next = { atMs: Date.UTC(2026, 2, 29, 1, 30), zone: 'Europe/Berlin' };
  const now = Date.UTC(2026, 2, 29, 0, 30);
  const there = when.nextText(next, 'Europe/London', now);
  assert.equal(there.relative, 'in 1 h 00 min');
  assert.match(there.mine, /29 Mar 2026.*02:30/);
  assert.match(there.theirs, /03:30 Europe\/Berlin$/);
  assert.equal(when.nextText(next, 'Europe/Berlin', now).theirs, null);
  assert.equal(when.nextText(null, 'UTC', now), null);
});

test('status marks', () => {
  assert.deepEqual(when.sendMark('sent'), { mark: '✓', label: 'Sent', tone: 'ok' });
  assert.equal(when.sendMark('delivered').mark, '✓✓');
  assert.equal(when.sendMark('read').label, 'Read');
  assert.equal(when.sendMark('cancelled', 'replied').label, 'Skipped: they wrote');
  assert.equal(when.sendMark('cancelled').label, 'Cancelled');
  assert.equal(when.sendMark('in_doubt').tone, 'warn');
  assert.equal(when.statusText('paused'), 'Paused');
});

test('DST notes and text previews', () => {
  assert.equal(
    when.dstNote({ dst: 'gap', asked: '02:30', local: '2026-03-29T03:30:00' }),
    '02:30 does not exist that day (clocks go forward): sent at 03:30',
  );
  assert.match(when.dstNote({ dst: 'fold', asked: '02:30', local: '2026-10-25T02:30:00' }), /happens twice/);
  assert.equal(when.dstNote({ local: '2026-10-25T09:00:00' }), '');
  assert.equal(when.preview('short'), 'short');
  assert.equal(when.preview('line one\nline two'), 'line one…');
  assert.equal(when.preview('x'.repeat(100), 10), `${'x'.repeat(10)}…`);
});
