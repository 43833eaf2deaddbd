// The Schedules screen: every schedule with its next send (relative, in the user's zone and in
// the schedule's where it differs), recipient, text, timing in words and status; its actions;
// and the log of one schedule's sends. Its data lives in the store (`state.schedules`); this
// module fetches it, renders it, and reloads it when the Rust side says schedules changed.
import { call, errorText } from './api.js';
import { $, setText, setHidden } from './dom.js';
import { store } from './store.js';
import { toast } from './toast.js';
import * as compose from './compose.js';
import { nextText, sendMark, statusText, preview } from './when.js';

const userZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function setSchedules(patch) {
  store.update((s) => ({ schedules: { ...s.schedules, ...patch } }));
}

export function init() {
  $('new-schedule-btn').addEventListener('click', () => compose.open(null));
  $('schedule-list').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-action]');
    if (button) act(button.dataset.action, Number(button.dataset.id), button);
  });
  $('log-close').addEventListener('click', () => {
    const open = store.get().schedules.open;
    setSchedules({ open: null, sends: [] });
    const back = document.querySelector(`button[data-action=log][data-id="${open}"]`);
    if (back) back.focus();
  });
}

// Everything the screen shows, read again (on start, on entering it, on every change).
export async function refresh() {
  try {
    const [list, status] = await Promise.all([call('list_schedules'), call('scheduler_status')]);
    // An unchanged answer keeps the rendered list (and the focus in it) as it is.
    const was = store.get().schedules;
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(list, was.list) || !same(status, was.status)) setSchedules({ list, status });
    const open = store.get().schedules.open;
    if (open != null) await loadLog(open);
  } catch (err) {
    toast(errorText(err));
  }
}

// The Rust side changed schedules or their sends (here, by the runner, or another process).
export function changed() {
  refresh();
}

async function loadLog(id) {
  try {
    const sends = await call('schedule_sends', { id, limit: 100 });
    if (store.get().schedules.open === id) setSchedules({ sends });
  } catch (err) {
    // Deleted meanwhile: the log closes.
    setSchedules({ open: null, sends: [] });
    if (err.code !== 'not_found') toast(errorText(err));
  }
}

async function act(action, id, button) {
  const s = store.get().schedules.list.find((x) => x.id === id);
  if (!s) return;
  try {
    switch (action) {
      case 'edit': compose.open(s); return;
      case 'log':
        setSchedules({ open: store.get().schedules.open === id ? null : id, sends: [] });
        if (store.get().schedules.open === id) {
          await loadLog(id);
          $('log-title').focus();
        }
        return;
      case 'send': {
        await call('send_schedule_now', { id });
        toast(`Sending to ${s.to} now.`, 'info');
        break;
      }
      case 'pause': await call('pause_schedule', { id }); break;
      case 'resume': await call('resume_schedule', { id }); break;
      case 'duplicate': {
        try {
          await call('duplicate_schedule', { id });
          toast('Copied. The copy is at the top of the list.', 'info');
        } catch (err) {
          // A one-shot whose time has passed: copy it into the form to pick a new time.
          if (err.field === 'time') compose.open(null, s.draft, 'Its time has passed: pick a new one for the copy.');
          else throw err;
        }
        break;
      }
      case 'delete': {
        const ok = window.confirm(`Delete the schedule to ${s.to}? Its log goes too; this cannot be undone.`);
        if (!ok) return;
        await call('delete_schedule', { id });
        if (store.get().schedules.open === id) setSchedules({ open: null, sends: [] });
        toast('Schedule deleted.', 'info');
        $('new-schedule-btn').focus();
        break;
      }
      default: return;
    }
    await refresh();
  } catch (err) {
    toast(errorText(err));
    if (button.isConnected) button.focus();
  }
}

export function render(state, previous) {
  const sc = state.schedules;
  const was = previous.schedules;
  const shown = state.view === 'schedules';
  if (sc.status !== was.status) renderStatus(sc.status);
  if (sc.list !== was.list || sc.status !== was.status || sc.open !== was.open) {
    // Redrawn, the focused action button is focused again in its new node.
    const focused = document.activeElement?.closest?.('#schedule-list button[data-action]');
    $('schedule-list').replaceChildren(...sc.list.map((s) => item(s, sc, state.now)));
    if (focused) {
      const again = document.querySelector(`#schedule-list button[data-action="${focused.dataset.action}"][data-id="${focused.dataset.id}"]`);
      if (again) again.focus();
    }
    setHidden($('schedules-empty'), sc.list.length > 0 || state.composing != null);
  }
  if (state.composing !== previous.composing) {
    setHidden($('schedules-empty'), sc.list.length > 0 || state.composing != null);
  }
  if (sc.open !== was.open || sc.sends !== was.sends) renderLog(sc);
  // The relative times move with the clock, only while the screen is on show.
  if (shown && state.now !== previous.now) {
    for (const el of document.querySelectorAll('#schedule-list [data-at]')) {
      const at = Number(el.dataset.at);
      setText(el, nextText({ atMs: at, zone: userZone }, userZone, state.now).relative);
    }
  }
}

function renderStatus(status) {
  const note = $('scheduler-note');
  let text = '';
  if (status && status.state === 'noSender') {
    text = 'This build of Herald cannot send messages yet. Your schedules are saved and planned, but nothing is sent, and "Send now" is off.';
  } else if (status && status.state === 'stopped') {
    text = 'The scheduler stopped. Nothing is sent until Herald is restarted.';
  }
  setText(note, text);
  setHidden(note, !text);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function button(action, id, label, name, extra = {}) {
  const b = el('button', 'ghost small', label);
  b.type = 'button';
  b.dataset.action = action;
  b.dataset.id = String(id);
  b.setAttribute('aria-label', `${name}: ${label}`);
  for (const [k, v] of Object.entries(extra)) b.setAttribute(k, v);
  return b;
}

function item(s, sc, now) {
  const li = el('li', 'card schedule');
  li.dataset.id = String(s.id);
  li.dataset.status = s.status;
  const head = el('div', 'schedule-head');
  const who = el('h2', 'schedule-to', s.toKind === 'group' ? `Group ${s.to}` : s.to);
  head.append(who);
  const pill = el('span', 'pill', statusText(s.status));
  pill.dataset.tone = s.status === 'active' ? 'ok' : 'off';
  head.append(pill);
  if (s.last) {
    const m = sendMark(s.last);
    const last = el('span', 'pill last', `Last: ${m.mark} ${m.label}`);
    last.dataset.tone = m.tone;
    head.append(last);
  }
  li.append(head);

  const when = el('p', 'schedule-next');
  const next = nextText(s.next, userZone, now);
  if (next) {
    when.append(el('strong', 'rel', next.relative));
    when.lastChild.dataset.at = String(s.next.atMs);
    when.append(document.createTextNode(` · ${next.mine}`));
    if (next.theirs) when.append(el('span', 'muted', ` (${next.theirs})`));
  } else {
    when.append(el('span', 'muted', s.status === 'paused' ? 'Paused: nothing waiting.' : 'Nothing left to send.'));
  }
  li.append(when);
  li.append(el('p', 'schedule-timing muted', s.timing + (s.skipIfReplied ? ' · skipped if they wrote since' : '')));
  li.append(el('p', 'schedule-text', preview(s.text)));

  const name = `Schedule to ${s.to}`;
  const actions = el('div', 'schedule-actions');
  const canSend = sc.status && sc.status.state === 'running' && s.status !== 'cancelled';
  const send = button('send', s.id, 'Send now', name);
  send.disabled = !canSend;
  if (!canSend) send.title = 'Sending is not available in this build';
  actions.append(send, button('edit', s.id, 'Edit', name));
  if (s.status === 'active') actions.append(button('pause', s.id, 'Pause', name));
  if (s.status === 'paused') actions.append(button('resume', s.id, 'Resume', name));
  actions.append(
    button('duplicate', s.id, 'Duplicate', name),
    button('log', s.id, 'Log', name, { 'aria-expanded': String(sc.open === s.id), 'aria-controls': 'schedule-log' }),
    button('delete', s.id, 'Delete', name, { class: 'ghost small danger' }),
  );
  li.append(actions);
  return li;
}

function renderLog(sc) {
  const s = sc.list.find((x) => x.id === sc.open);
  setHidden($('schedule-log'), !s);
  if (!s) return;
  setText($('log-title'), `Sends to ${s.to}`);
  const rows = sc.sends.map((r) => {
    const tr = el('tr');
    tr.setAttribute('role', 'row');
    tr.dataset.state = r.state;
    const due = el('td', 'time', nextText({ atMs: r.due.atMs, zone: s.zone }, userZone, Date.now()).mine);
    due.setAttribute('role', 'cell');
    const m = sendMark(r.state, r.errorCode);
    const status = el('td', 'status');
    status.setAttribute('role', 'cell');
    const pill = el('span', 'pill', `${m.mark} ${m.label}`);
    pill.dataset.tone = m.tone;
    status.append(pill);
    const details = el('td', 'details muted', r.advice ?? (r.seq === 0 ? 'Sent on request' : ''));
    details.setAttribute('role', 'cell');
    tr.append(due, status, details);
    return tr;
  });
  if (!rows.length) {
    const tr = el('tr');
    const td = el('td', 'muted', 'Nothing sent yet.');
    td.colSpan = 3;
    tr.append(td);
    rows.push(tr);
  }
  $('log-rows').replaceChildren(...rows);
}
