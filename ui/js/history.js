// The History screen: the disconnect table (paged), the online/offline timeline over 24 h
// or 7 days, and CSV export.
import { call, errorText } from './api.js';
import { dateTime, duration } from './format.js';
import { toast } from './app.js';

const $ = (id) => document.getElementById(id);
const PAGE = 50;
let range = 'day';
let oldestId = null;

export function init() {
  for (const b of document.querySelectorAll('.seg')) {
    b.addEventListener('click', () => {
      range = b.dataset.range;
      for (const o of document.querySelectorAll('.seg')) o.setAttribute('aria-pressed', String(o === b));
      drawTimeline();
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
  await Promise.all([loadPage(true), drawTimeline()]);
}

export function appended(record) {
  if ($('view-history').hidden) return;
  $('history-rows').prepend(row(record));
  $('history-empty').hidden = true;
  drawTimeline();
}

function tone(decision) {
  if (decision.startsWith('stop')) return 'bad';
  if (decision === 'backoff') return 'warn';
  return 'ok';
}

function decisionText(decision, r) {
  if (decision === 'reconnect_now') return 'Reconnected at once';
  if (decision === 'backoff') return r.delayMs != null ? `Retry #${r.attempt} after ${duration(r.delayMs)}` : 'Retry';
  const end = decision.split(':')[1] ?? '';
  return `Stopped: ${end.replaceAll('_', ' ')}`;
}

function cell(text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  return td;
}

function row(r) {
  const tr = document.createElement('tr');
  tr.append(cell(dateTime(r.atMs), 'time'));
  tr.append(cell(r.title, 'cause'));
  tr.append(cell(r.code != null ? String(r.code) : '—', 'code'));
  const d = document.createElement('td');
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
  try {
    const rows = await call('history', { beforeId: first ? null : oldestId, limit: PAGE });
    const body = $('history-rows');
    if (first) body.replaceChildren();
    for (const r of rows) body.append(row(r));
    if (rows.length) oldestId = rows[rows.length - 1].id;
    $('history-empty').hidden = body.children.length > 0;
    $('history-more').hidden = rows.length < PAGE;
  } catch (err) {
    toast(errorText(err));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

async function drawTimeline() {
  let t;
  try {
    t = await call('timeline', { range });
  } catch (err) {
    toast(errorText(err));
    return;
  }
  const W = 1000, H = 64, barY = 8, barH = 30;
  const span = t.toMs - t.fromMs;
  const x = (ms) => ((ms - t.fromMs) / span) * W;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none' });
  for (const s of t.spans) {
    const rect = el('rect', { x: x(s.startMs), y: barY, width: Math.max(x(s.endMs) - x(s.startMs), 0.5), height: barH, class: s.state });
    const title = el('title', {});
    title.textContent = `${s.state}: ${dateTime(s.startMs)} – ${dateTime(s.endMs)}`;
    rect.append(title);
    svg.append(rect);
  }
  for (const m of t.disconnects) {
    svg.append(el('rect', { x: x(m) - 0.75, y: barY - 4, width: 1.5, height: barH + 8, class: 'mark' }));
  }
  const ticks = range === 'day' ? 6 : 7;
  for (let i = 0; i <= ticks; i++) {
    const ms = t.fromMs + (span * i) / ticks;
    const d = new Date(ms);
    const label = range === 'day'
      ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleDateString(undefined, { weekday: 'short' });
    const anchor = i === 0 ? 'start' : i === ticks ? 'end' : 'middle';
    const text = el('text', { x: x(ms), y: H - 4, 'text-anchor': anchor, class: 'tick' });
    text.textContent = label;
    svg.append(text);
  }
  $('timeline').replaceChildren(svg);
  $('uptime').textContent = t.uptime != null
    ? `Online ${(t.uptime * 100).toFixed(1)} % of the recorded time · ${t.disconnects.length} disconnects`
    : 'Nothing recorded in this period yet.';
}
