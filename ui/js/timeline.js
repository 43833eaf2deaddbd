// The online/offline timeline as an SVG: one bar per span, a mark per disconnect, and time
// ticks. Pure drawing from the `timeline` command's answer.
import { dateTime } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 1000;
const H = 64;
const BAR_Y = 8;
const BAR_H = 30;

function el(name, attrs) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function drawTimeline(t, range) {
  const span = t.toMs - t.fromMs;
  const x = (ms) => ((ms - t.fromMs) / span) * W;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none' });
  for (const s of t.spans) {
    const rect = el('rect', { x: x(s.startMs), y: BAR_Y, width: Math.max(x(s.endMs) - x(s.startMs), 0.5), height: BAR_H, class: s.state });
    const title = el('title', {});
    title.textContent = `${s.state}: ${dateTime(s.startMs)} – ${dateTime(s.endMs)}`;
    rect.append(title);
    svg.append(rect);
  }
  for (const m of t.disconnects) {
    svg.append(el('rect', { x: x(m) - 0.75, y: BAR_Y - 4, width: 1.5, height: BAR_H + 8, class: 'mark' }));
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
  return svg;
}
