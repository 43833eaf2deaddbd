// The window's store and navigation, run outside the window: both modules are pure and import
// nothing, so they load here exactly as the app loads them. Run by tests/ui_logic.rs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

async function load(name) {
  const src = readFileSync(new URL(`../../ui/js/${name}`, import.meta.url), 'utf8');
  return import(`data:text/javascript,${encodeURIComponent(src)}`);
}

const { route, connectionArrived, userNavigated, VIEW_NAMES } = await load('navigation.js');
const { createStore, store } = await load('store.js');

const conn = (state, extra = {}) => ({ state, label: state, linked: false, ...extra });

// A fresh store with the app's initial state, driven through the same patches as the app.
function app(patch = {}) {
  const s = createStore({ ...store.get(), ...patch });
  return {
    s,
    connection(c) { s.update((st) => connectionArrived(st, c)); return s.get(); },
    click(view) { s.update((st) => userNavigated(st, view)); return s.get(); },
  };
}

test('a fresh install opens the Link-phone screen and says why', () => {
  const a = app();
  a.connection(conn('connecting', { label: 'Connecting' }));
  assert.equal(a.s.get().view, 'schedules');
  const st = a.connection(conn('pairing', { label: 'Waiting for a scan', qr: { svg: '<svg/>' } }));
  assert.equal(st.view, 'pairing');
  assert.equal(st.navigation.by, 'auto');
  assert.equal(st.announcement.text, 'Waiting for a scan. Showing Link phone.');
  assert.equal(st.linking, true);
});

test('a new QR in the same state does not pull the user back', () => {
  const a = app();
  a.connection(conn('pairing', { qr: { svg: '1' } }));
  a.click('health');
  const before = a.s.get().announcement.seq;
  const st = a.connection(conn('pairing', { qr: { svg: '2' } }));
  assert.equal(st.view, 'health');
  assert.equal(st.announcement.seq, before, 'the same label is not announced again');
});

test('linking done: from Link phone to Schedules, through the states on the way', () => {
  const a = app();
  a.connection(conn('pairing', { qr: { svg: '1' } }));
  assert.equal(a.s.get().view, 'pairing');
  for (const state of ['connecting', 'logging_in']) {
    const st = a.connection(conn(state, { linked: true }));
    assert.equal(st.view, 'pairing', state);
    assert.equal(st.linking, true, state);
  }
  const st = a.connection(conn('online', { label: 'Online', linked: true }));
  assert.equal(st.view, 'schedules');
  assert.equal(st.linking, false);
  assert.equal(st.announcement.text, 'Online. Showing Schedules.');
});

test('online without a pairing episode leaves the user where they are', () => {
  const a = app({ connection: conn('backoff', { linked: true }) });
  a.click('pairing');
  const st = a.connection(conn('online', { linked: true }));
  assert.equal(st.view, 'pairing');
  assert.equal(st.announcement.text, 'online');
});

test('a pairing episode ends when the link stops on the way', () => {
  const a = app();
  a.connection(conn('pairing', { qr: { svg: '1' } }));
  a.connection(conn('replaced'));
  assert.equal(a.s.get().linking, false);
  const st = a.connection(conn('online', { linked: true }));
  assert.equal(st.view, 'pairing', 'no "just linked" switch after an unrelated stop');
});

test('a lost link takes the user to pairing only from an overview', () => {
  for (const [from, want] of [['schedules', 'pairing'], ['health', 'pairing'], ['history', 'history'], ['settings', 'settings']]) {
    const a = app({ connection: conn('online', { linked: true }) });
    a.click(from);
    const st = a.connection(conn('logged_out', { label: 'Logged out' }));
    assert.equal(st.view, want, `from ${from}`);
    if (want !== 'pairing') assert.equal(st.announcement.text, 'Logged out');
  }
});

test('nobody is moved away from a half-written schedule', () => {
  const a = app({ connection: conn('online', { linked: true }) });
  a.s.update({ composing: { id: null, preview: [], previewError: null } });
  const st = a.connection(conn('logged_out', { label: 'Logged out' }));
  assert.equal(st.view, 'schedules');
  assert.equal(st.announcement.text, 'Logged out');
});

test('nobody is moved while a phone code is on show', () => {
  const a = app({ connection: conn('pairing_code', { pairCode: 'ABCD-EFGH' }) });
  a.s.update({ phoneCode: 'ABCD-EFGH' });
  const st = a.connection(conn('qr_expired'));
  assert.equal(st.view, 'schedules');
  assert.equal(st.phoneCode, 'ABCD-EFGH', 'the code stays while the link is not made');
});

test('the phone code goes away once linked', () => {
  const a = app();
  a.connection(conn('pairing_code', { pairCode: 'ABCD-EFGH' }));
  assert.equal(a.s.get().phoneCode, 'ABCD-EFGH');
  const st = a.connection(conn('online', { linked: true }));
  assert.equal(st.phoneCode, null);
});

test('route is pure: same inputs, same answer, inputs untouched', () => {
  const prev = Object.freeze({ ...store.get(), connection: conn('online'), linking: true, view: 'pairing' });
  const next = Object.freeze({ ...prev, connection: conn('logged_out') });
  assert.equal(route(prev, next), null, 'logged out while on pairing: already there');
  const back = Object.freeze({ ...prev, connection: conn('pairing'), linking: true });
  const online = Object.freeze({ ...back, connection: conn('online') });
  assert.equal(route(back, online), 'schedules');
  assert.equal(route(back, online), 'schedules');
  assert.equal(route(online, online), null, 'no change of state, no move');
});

test('user navigation is marked as such and unknown screens are refused', () => {
  const a = app();
  const st = a.click('history');
  assert.equal(st.view, 'history');
  assert.equal(st.navigation.by, 'user');
  const again = a.click('history');
  assert.equal(again.navigation.seq, st.navigation.seq + 1, 'a second click still moves focus');
  assert.equal(userNavigated(again, 'nowhere'), null);
  assert.deepEqual(Object.keys(VIEW_NAMES).sort(), ['health', 'history', 'pairing', 'schedules', 'settings']);
});

test('the store hands each subscriber the new and the previous state', () => {
  const s = createStore({ n: 1, other: 'x' });
  const seen = [];
  const off = s.subscribe((state, previous) => seen.push([state.n, previous.n, state.other]));
  s.update({ n: 2 });
  s.update((st) => ({ n: st.n + 1 }));
  s.update(() => null);
  off();
  s.update({ n: 10 });
  assert.deepEqual(seen, [[2, 1, 'x'], [3, 2, 'x']]);
  assert.equal(s.get().n, 10);
  assert.throws(() => { 'use strict'; s.get().n = 5; }, TypeError, 'state is frozen');
});
