// A passing message over the window. Errors are an alert and stay until dismissed or replaced,
// so they can be read again; other notes are a polite status and go away by themselves.
const HIDE_AFTER_MS = 6000;
let timer = null;

export function toast(text, kind = 'error') {
  const box = document.getElementById('toast');
  const message = document.getElementById('toast-text');
  clearTimeout(timer);
  // The role is set before the text, so the new text is announced with the right urgency.
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.dataset.kind = kind;
  message.textContent = text;
  box.hidden = false;
  if (kind !== 'error') timer = setTimeout(dismiss, HIDE_AFTER_MS);
}

export function dismiss() {
  clearTimeout(timer);
  document.getElementById('toast').hidden = true;
}

export function init() {
  document.getElementById('toast-close').addEventListener('click', dismiss);
}
