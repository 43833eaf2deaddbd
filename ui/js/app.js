// Herald's window: navigation, and wiring of each screen to the Rust side.
import { call, on, errorText } from './api.js';
import * as health from './health.js';
import * as pairing from './pairing.js';
import * as history from './history.js';
import * as settings from './settings.js';
import * as demo from './demo.js';

const $ = (id) => document.getElementById(id);

export function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
}

export function show(view) {
  for (const item of document.querySelectorAll('.nav-item')) {
    if (item.dataset.view === view) item.setAttribute('aria-current', 'page');
    else item.removeAttribute('aria-current');
  }
  for (const section of document.querySelectorAll('.view')) {
    section.hidden = section.id !== `view-${view}`;
  }
  if (view === 'history') history.refresh();
  if (view === 'settings') settings.load();
}

function onConnection(view) {
  health.showConnection(view);
  pairing.showConnection(view);
  $('nav-dot').dataset.tone = view.tone;
  $('side-state').textContent = view.label;
  document.title = `Herald — ${view.label}`;
  // Where the user needs to act, take them there — but only from the Connection screen, so
  // nobody is pulled out of History or Settings in the middle of reading or typing.
  const needsPairing = view.state === 'pairing' || view.state === 'qr_expired' || view.state === 'logged_out';
  if (needsPairing && currentView() === 'health' && !pairing.isPairingByPhone()) show('pairing');
  if (view.state === 'online' && currentView() === 'pairing' && pairing.justPaired()) show('health');
}

function currentView() {
  const item = document.querySelector('.nav-item[aria-current="page"]');
  return item ? item.dataset.view : 'health';
}

async function start() {
  for (const item of document.querySelectorAll('.nav-item')) {
    item.addEventListener('click', () => show(item.dataset.view));
  }
  $('quit-btn').addEventListener('click', () => call('quit'));
  health.init();
  pairing.init();
  history.init();
  settings.init();

  await on('connection', onConnection);
  await on('health', health.showHealth);
  await on('history', history.appended);

  try {
    const info = await call('app_info');
    if (info.demo) demo.init();
    onConnection(await call('connection_state'));
    health.showHealth(await call('health'));
  } catch (err) {
    toast(`Herald could not read its state. ${errorText(err)}`);
  }
  // Tell the shell the first screen is painted (after the next frame, not before).
  requestAnimationFrame(() => requestAnimationFrame(() => call('ui_ready')));
}

start();
