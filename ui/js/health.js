// The Connection screen: state, time in state, last cause and advice, keepalive, version,
// retry countdown, reconnect and unlink. Renders from the store; keeps nothing of its own.
import { call, errorText } from './api.js';
import { $, setText, setHidden } from './dom.js';
import { since, countdown, ago, bytes } from './format.js';
import { toast } from './toast.js';

export function init() {
  $('reconnect-btn').addEventListener('click', async () => {
    try { await call('reconnect_now'); } catch (err) { toast(errorText(err)); }
  });
  $('logout-btn').addEventListener('click', async () => {
    const ok = window.confirm('Unlink this computer from your WhatsApp? Herald cannot send anything until you link it again.');
    if (!ok) return;
    try { await call('logout'); } catch (err) { toast(errorText(err)); }
  });
}

export function render(state, previous) {
  const shown = state.view === 'health';
  const entered = shown && previous.view !== 'health';
  if (state.connection && (state.connection !== previous.connection || entered)) {
    renderConnection(state.connection);
  }
  if (state.health && (state.health !== previous.health || entered)) renderHealth(state.health);
  // The clock only matters to what is on screen.
  if (shown) renderTimes(state);
}

function renderConnection(view) {
  $('state-card').dataset.tone = view.tone;
  setText($('state-label'), view.label);
  setText($('state-detail'), view.detail);
  const retry = view.state === 'backoff' && view.untilMs;
  setHidden($('retry-box'), !retry);
  if (retry) setText($('retry-attempt'), `#${view.attempt}`);
  // Reconnecting makes no sense before there is a link to reconnect.
  $('reconnect-btn').disabled = !view.canReconnect;
  setHidden($('logout-btn'), !view.linked);
}

function renderHealth(h) {
  const d = h.lastDisconnect;
  setText($('m-cause'), d ? (d.code ? `${d.title} (${d.code})` : d.title) : 'None yet');
  setText($('m-advice'), d ? d.advice : '');
  setText($('m-rtt'), h.rttMs != null ? `${h.rttMs} ms` : '—');
  setText($('m-version'), h.version ?? '—');
  setText($('m-version-source'), h.versionSource ? `source: ${h.versionSource}` : '');
  setText($('m-account'), h.account ? h.account.phone : 'Not linked');
  setText($('m-disconnects'), h.disconnects ? `${h.disconnects} disconnect${h.disconnects === 1 ? '' : 's'} recorded` : '');
  const key = h.storeKey;
  setText($('m-keys'), !key ? '—' : key.protected ? (key.backend === 'keychain' ? 'In the OS keychain' : 'Key from the environment') : 'Not protected');
  setText($('m-keys-note'), key && !key.protected ? `The key is in a file beside the session${key.note ? ` (${key.note})` : ''}.` : '');
  setText($('m-scheduled'), h.scheduledMessages != null
    ? `${h.scheduledMessages} waiting · ${h.activeJobs} active schedule${h.activeJobs === 1 ? '' : 's'}` : '—');
  setText($('m-scheduler'), {
    running: h.scheduledMessages ? 'Sent while the link is online.' : 'Nothing scheduled.',
    noSender: 'Not sent: this build cannot send messages yet.',
    stopped: 'Not sent: the scheduler stopped; restart Herald.',
  }[h.scheduler] ?? '');
  setText($('m-memory'), h.memoryBytes ? `Herald's own process uses ${bytes(h.memoryBytes)} of memory.` : '');
}

function renderTimes(state) {
  const c = state.connection;
  if (c) {
    setText($('state-since'), c.sinceMs ? since(c.sinceMs, state.now) : '');
    if (c.state === 'backoff' && c.untilMs) setText($('retry-countdown'), countdown(c.untilMs, state.now));
  }
  const h = state.health;
  if (h) setText($('m-pong'), h.lastPongMs ? `last pong ${ago(h.lastPongMs, state.now)}` : '');
}
