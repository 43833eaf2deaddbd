// Formatting of times and durations, in the user's locale.

export function duration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return '< 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function since(ms, now = Date.now()) {
  if (!ms) return '';
  return `for ${duration(now - ms)}`;
}

export function ago(ms, now = Date.now()) {
  if (!ms) return '';
  return `${duration(now - ms)} ago`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export function dateTime(ms) {
  return ms ? timeFmt.format(new Date(ms)) : '';
}

export function countdown(untilMs, now = Date.now()) {
  const s = Math.max(0, Math.ceil((untilMs - now) / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` : `${s} s`;
}

export function bytes(n) {
  if (n == null) return '';
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`;
}
