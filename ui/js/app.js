// Herald's window: the store's one subscriber that renders the shell and each screen, and the
// wiring of events from the Rust side into the store.
import { call, on, errorText } from './api.js';
import { $, setText, setHidden } from './dom.js';
import { store } from './store.js';
import { connectionArrived, userNavigated } from './navigation.js';
import { toast, init as initToast } from './toast.js';
import * as schedules from './schedules.js';
import * as compose from './compose.js';
import * as health from './health.js';
import * as pairing from './pairing.js';
import * as history from './history.js';
import * as settings from './settings.js';
import * as demo from './demo.js';

// One clock for every countdown; each screen re-renders its time fields only while shown.
const TICK_MS = 250;
// The screens that render from the store (Settings is a form: its inputs are its state).
const screens = [schedules, compose, health, pairing, history, demo];

function renderShell(state, previous) {
  if (state.view !== previous.view || state.navigation !== previous.navigation) showView(state);
  const c = state.connection;
  if (c && c !== previous.connection) {
    $('nav-dot').dataset.tone = c.tone;
    setText($('side-state'), c.label);
    document.title = `Herald — ${c.label}`;
  }
  if (state.announcement.seq !== previous.announcement.seq) announce(state.announcement.text);
}

function showView(state) {
  for (const item of document.querySelectorAll('.nav-item')) {
    if (item.dataset.view === state.view) item.setAttribute('aria-current', 'page');
    else item.removeAttribute('aria-current');
  }
  const focused = document.activeElement;
  let shown = null;
  for (const section of document.querySelectorAll('.view')) {
    const visible = section.id === `view-${state.view}`;
    setHidden(section, !visible);
    if (visible) shown = section;
  }
  if (!shown || state.navigation.by === 'start') return;
  // The user asked for this screen: take them to its heading. An automatic switch is
  // announced instead, and moves focus only if the focus was on the screen that went away.
  const lost = !focused || focused === document.body || focused.closest('.view[hidden]');
  if (state.navigation.by === 'user' || lost) shown.querySelector('h1').focus();
}

// The one live region for the state: the same text twice is cleared first so it is said again.
function announce(text) {
  const el = $('announcer');
  el.textContent = '';
  requestAnimationFrame(() => { el.textContent = text; });
}

function render(state, previous) {
  renderShell(state, previous);
  for (const screen of screens) screen.render(state, previous);
}

// Entering a screen loads what it shows.
function load(state, previous) {
  if (state.view === previous.view) return;
  if (state.view === 'schedules') schedules.refresh();
  if (state.view === 'history') history.refresh();
  if (state.view === 'settings') settings.load();
}

function onConnection(view) {
  store.update((s) => connectionArrived(s, view));
}

async function start() {
  store.subscribe(render);
  store.subscribe(load);
  for (const item of document.querySelectorAll('.nav-item')) {
    item.addEventListener('click', () => store.update((s) => userNavigated(s, item.dataset.view)));
  }
  $('quit-btn').addEventListener('click', () => call('quit'));
  initToast();
  schedules.init();
  compose.init();
  health.init();
  pairing.init();
  history.init();
  settings.init();
  setInterval(() => store.update({ now: Date.now() }), TICK_MS);

  await on('connection', onConnection);
  await on('health', (h) => store.update({ health: h }));
  await on('history', history.appended);
  await on('schedules', schedules.changed);

  try {
    const info = await call('app_info');
    if (info.demo) {
      demo.init();
      store.update({ demo: true });
    }
    onConnection(await call('connection_state'));
    store.update({ health: await call('health') });
    await schedules.refresh();
  } catch (err) {
    toast(`Herald could not read its state. ${errorText(err)}`);
  }
  // Tell the shell the first screen is painted (after the next frame, not before).
  requestAnimationFrame(() => requestAnimationFrame(() => call('ui_ready')));
}

start();
