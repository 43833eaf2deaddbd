// The History screen: the disconnect table (paged), the online/offline timeline over 24 h
// or 7 days, and CSV export. Its data lives in the store (`state.history`); this module
// fetches it and renders it.
import { call, errorText } from './api.js';
import { $, setText, setHidden } from './dom.js';
import { dateTime, duration } from './format.js';
import { store } from './store.js';
import { toast } from './toast.js';
import { drawTimeline } from './timeline.js';

const PAGE = 50;

// The column names, repeated on each cell for the narrow layout, where the header row is not
// shown (see `.table-card` in style.css).
const LABELS = { code: 'Code', online: 'Online before' };

function setHistory(patch) {
  store.update((s) => ({ history: { ...s.history, ...patch } }));
}

export function init() {
  for (const b of document.querySelectorAll('.seg')) {
    b.addEventListener('click', () => {
      setHistory({ range: b.dataset.range });
      loadTimeline();
    });
  }
  $('history-more').addEventListener('click', () => loadPage(false));
  $('export-btn').addEventListener('click', async () => {
    try {
      const res = await call('export_history_csv');
      $('export-status').textContent = `Saved ${res.rows} rows to ${res.path}`;
    } catch (err) {
      toast(errorText(err));
    }
  });
}

export async function refresh() {
  await Promise.all([loadPage(true), loadTimeline()]);
}

// A disconnect recorded while the screen is shown goes on top; otherwise the screen reloads
// when it is next opened.
export function appended(record) {
  const s = store.get();
  if (s.view !== 'history') return;
  setHistory({ rows: [record, ...s.history.rows] });
  loadTimeline();
}

export function render(state, previous) {
  const h = state.history;
  const was = previous.history;
  if (h === was) return;
  if (h.range !== was.range) {
    for (const b of document.querySelectorAll('.seg')) b.setAttribute('aria-pressed', String(b.dataset.range === h.range));
  }
  if (h.rows !== was.rows) {
    $('history-rows').replaceChildren(...h.rows.map(row));
    setHidden($('history-empty'), h.rows.length > 0);
  }
  setHidden($('history-more'), !h.more);
  if (h.timeline !== was.timeline && h.timeline) {
    const t = h.timeline;
    $('timeline').replaceChildren(drawTimeline(t, h.range));
    setText($('uptime'), t.uptime != null
      ? `Online ${(t.uptime * 100).toFixed(1)} % of the recorded time · ${t.disconnects.length} disconnects`
      : 'Nothing recorded in this period yet.');
  }
}

function tone(decision) {
  if (decision.startsWith('stop')) return 'bad';
  if (decision === 'backoff') return 'warn';
  return 'ok';
}

// A stop arrives as `stop:<end state>`; the end state is shown in words.
function decisionText(decision, r) {
  if (decision === 'reconnect_now') return 'Reconnected at once';
  if (decision === 'backoff') return r.delayMs != null ? `Retry #${r.attempt} after ${duration(r.delayMs)}` : 'Retry';
  const end = decision.split(':')[1] ?? '';
  return `Stopped: ${end.replaceAll('_', ' ')}`;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.className = cls;
  td.setAttribute('role', 'cell');
  if (LABELS[cls]) td.dataset.label = LABELS[cls];
  td.textContent = text;
  return td;
}

function row(r) {
  const tr = document.createElement('tr');
  tr.setAttribute('role', 'row');
  tr.append(cell(dateTime(r.atMs), 'time'));
  tr.append(cell(r.title, 'cause'));
  tr.append(cell(r.code != null ? String(r.code) : '—', 'code'));
  const d = cell('', 'decision');
  const pill = document.createElement('span');
  pill.className = 'pill';
  pill.dataset.tone = tone(r.decision);
  pill.textContent = decisionText(r.decision, r);
  d.append(pill);
  tr.append(d);
  tr.append(cell(r.advice, 'advice'));
  tr.append(cell(r.onlineForMs ? duration(r.onlineForMs) : '—', 'online'));
  tr.dataset.cause = r.cause;
  return tr;
}

async function loadPage(first) {
  const s = store.get().history;
  const oldest = s.rows.length ? s.rows[s.rows.length - 1].id : null;
  try {
    const rows = await call('history', { beforeId: first ? null : oldest, limit: PAGE });
    const now = store.get().history.rows;
    setHistory({ rows: first ? rows : [...now, ...rows], more: rows.length === PAGE });
  } catch (err) {
    toast(errorText(err));
  }
}

async function loadTimeline() {
  const range = store.get().history.range;
  try {
    const timeline = await call('timeline', { range });
    // A later click on the other range wins over this answer.
    if (store.get().history.range === range) setHistory({ timeline });
  } catch (err) {
    toast(errorText(err));
  }
}
