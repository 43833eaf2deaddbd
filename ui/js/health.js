// The Connection screen: state, time in state, last cause and advice, keepalive, version,
// retry countdown, reconnect and unlink.
import { call, errorText } from './api.js';
import { since, countdown, ago, bytes } from './format.js';
import { toast } from './app.js';

const $ = (id) => document.getElementById(id);
let current = null;
let lastHealth = null;

export function init() {
  $('reconnect-btn').addEventListener('click', async () => {
    try { await call('reconnect_now'); } catch (err) { toast(errorText(err)); }
  });
  $('logout-btn').addEventListener('click', async () => {
    const ok = window.confirm('Unlink this computer from your WhatsApp? Scheduled messages will not be sent until you link it again.');
    if (!ok) return;
    try { await call('logout'); } catch (err) { toast(errorText(err)); }
  });
  setInterval(tick, 1000);
}

export function showConnection(view) {
  current = view;
  $('state-card').dataset.tone = view.tone;
  $('state-label').textContent = view.label;
  $('state-detail').textContent = view.detail;
  const retry = view.state === 'backoff' && view.untilMs;
  $('retry-box').hidden = !retry;
  if (retry) $('retry-attempt').textContent = `#${view.attempt}`;
  // Reconnecting makes no sense before there is a link to reconnect.
  $('reconnect-btn').disabled = !view.canReconnect;
  $('logout-btn').hidden = !view.linked;
  tick();
}

export function showHealth(h) {
  lastHealth = h;
  if (h.lastDisconnect) {
    const d = h.lastDisconnect;
    $('m-cause').textContent = d.code ? `${d.title} (${d.code})` : d.title;
    $('m-advice').textContent = d.advice;
  } else {
    $('m-cause').textContent = 'None yet';
    $('m-advice').textContent = '';
  }
  $('m-rtt').textContent = h.rttMs != null ? `${h.rttMs} ms` : '—';
  $('m-version').textContent = h.version ?? '—';
  $('m-version-source').textContent = h.versionSource ? `source: ${h.versionSource}` : '';
  $('m-account').textContent = h.account ? h.account.phone : 'Not linked';
  $('m-disconnects').textContent = h.disconnects ? `${h.disconnects} disconnect${h.disconnects === 1 ? '' : 's'} recorded` : '';
  const key = h.storeKey;
  $('m-keys').textContent = !key ? '—' : key.protected ? (key.backend === 'keychain' ? 'In the OS keychain' : 'Key from the environment') : 'Not protected';
  $('m-keys-note').textContent = key && !key.protected ? `The key is in a file beside the session${key.note ? ` (${key.note})` : ''}.` : '';
  $('m-memory').textContent = h.memoryBytes ? `Herald's own process uses ${bytes(h.memoryBytes)} of memory.` : '';
  tick();
}

function tick() {
  if (current) {
    $('state-since').textContent = current.sinceMs ? since(current.sinceMs) : '';
    if (current.state === 'backoff' && current.untilMs) {
      $('retry-countdown').textContent = countdown(current.untilMs);
    }
  }
  if (lastHealth) {
    $('m-pong').textContent = lastHealth.lastPongMs ? `last pong ${ago(lastHealth.lastPongMs)}` : '';
  }
}
