// How the Schedules screen says when and how a send goes: relative and absolute times in the
// user's zone (and the schedule's, where it differs), status marks. Pure: imports nothing, so
// tests/ui/when.test.mjs runs it outside the window.

// "in 2 h 05 min", "in 40 s", "in 3 days", "5 min ago".
export function relative(atMs, now) {
  const ms = atMs - now;
  const ahead = ms >= 0;
  const s = Math.round(Math.abs(ms) / 1000);
  let text;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 48 * 3600) text = `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  else text = `${Math.floor(s / 86400)} days`;
  if (s === 0) return 'now';
  return ahead ? `in ${text}` : `${text} ago`;
}

function formatter(zone) {
  const options = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (zone) options.timeZone = zone;
  return new Intl.DateTimeFormat('en-GB', options);
}

// "Tue, 1 Dec 2026, 09:00" in `zone` (the user's when absent).
export function absolute(atMs, zone) {
  return formatter(zone).format(new Date(atMs));
}

// What a schedule's next send reads as: relative, in the user's zone, and in the schedule's
// zone when that is another one (same instant, other wall clock).
export function nextText(next, userZone, now) {
  if (!next) return null;
  const mine = absolute(next.atMs, userZone);
  const theirs = next.zone !== userZone ? `${absolute(next.atMs, next.zone)} ${next.zone}` : null;
  return { relative: relative(next.atMs, now), mine, theirs };
}

// A send's mark, words and tone, as the log and the list show it.
export function sendMark(state, errorCode) {
  switch (state) {
    case 'pending': return { mark: '•', label: 'Waiting', tone: 'off' };
    case 'sending': return { mark: '…', label: 'Sending', tone: 'warn' };
    case 'sent': return { mark: '✓', label: 'Sent', tone: 'ok' };
    case 'delivered': return { mark: '✓✓', label: 'Delivered', tone: 'ok' };
    case 'read': return { mark: '✓✓', label: 'Read', tone: 'read' };
    case 'failed': return { mark: '✗', label: 'Failed', tone: 'bad' };
    case 'in_doubt': return { mark: '?', label: 'Not confirmed yet', tone: 'warn' };
    case 'missed': return { mark: '–', label: 'Missed', tone: 'bad' };
    case 'cancelled':
      return errorCode === 'replied'
        ? { mark: '↩', label: 'Skipped: they wrote', tone: 'off' }
        : { mark: '–', label: 'Cancelled', tone: 'off' };
    default: return { mark: '', label: state, tone: 'off' };
  }
}

// A schedule's status in words.
export function statusText(status) {
  return { active: 'Active', paused: 'Paused', cancelled: 'Cancelled', done: 'Done' }[status] ?? status;
}

// A DST note for a previewed occurrence.
export function dstNote(o) {
  if (o.dst === 'gap') return `${o.asked} does not exist that day (clocks go forward): sent at ${o.local.slice(11, 16)}`;
  if (o.dst === 'fold') return `${o.asked} happens twice that day (clocks go back): sent at the first`;
  return '';
}

// The first line of a message, shortened.
export function preview(text, max = 90) {
  const first = text.split('\n')[0];
  return first.length > max || first.length < text.trimEnd().length ? `${first.slice(0, max)}…` : first;
}
