// The Link-phone screen: the rotating QR with its countdown, expiry and a new code, pairing
// by phone number, and the success state. Renders from the store; keeps nothing of its own.
import { call, errorText } from './api.js';
import { $, setText, setHidden } from './dom.js';
import { countdown } from './format.js';
import { store } from './store.js';
import { toast } from './toast.js';

export function init() {
  $('new-qr-btn').addEventListener('click', async () => {
    try { await call('start_pairing'); } catch (err) { toast(errorText(err)); }
  });
  $('phone-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('phone-input');
    $('phone-error').textContent = '';
    input.removeAttribute('aria-invalid');
    try {
      const res = await call('pair_with_phone', { phone: input.value });
      store.update({ phoneCode: res.code });
    } catch (err) {
      input.setAttribute('aria-invalid', 'true');
      $('phone-error').textContent = errorText(err);
    }
  });
}

export function render(state, previous) {
  const c = state.connection;
  if (c && (c !== previous.connection || state.pairNote !== previous.pairNote)) renderConnection(c, state, previous);
  if (state.phoneCode !== previous.phoneCode) {
    if (state.phoneCode) setText($('pair-code'), state.phoneCode);
    setHidden($('pair-code-box'), !state.phoneCode);
  }
  if (state.view === 'pairing') renderCountdown(state);
}

function showSvg(svgText) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName.toLowerCase() !== 'svg') return;
  $('qr-box').replaceChildren(document.importNode(svg, true));
}

function placeholder(text) {
  const box = $('qr-box');
  const current = box.querySelector('.placeholder');
  if (current && current.textContent === text && box.children.length === 1) return;
  const p = document.createElement('p');
  p.className = 'placeholder';
  p.textContent = text;
  box.replaceChildren(p);
}

// What the status line under the steps says in each state.
function status(view, note) {
  if (note) return note;
  if (view.qr) return 'Waiting for your phone to scan the code…';
  switch (view.state) {
    case 'qr_expired': return 'The codes expired before a scan.';
    case 'logged_out':
    case 'not_linked': return view.detail;
    case 'pairing_code': return 'Waiting for you to enter the code on your phone…';
    default: return '';
  }
}

function renderConnection(view, state, previous) {
  const overlay = $('qr-overlay');
  const before = previous.connection && previous.connection.qr;
  if (view.qr && (!before || before.svg !== view.qr.svg || !$('qr-box').querySelector('svg'))) showSvg(view.qr.svg);
  setText($('pair-status'), status(view, state.pairNote));
  let linked = false;
  switch (view.state) {
    case 'pairing':
    case 'pairing_code':
      if (view.qr) setHidden(overlay, true);
      break;
    case 'qr_expired':
      setHidden(overlay, false);
      setText($('qr-overlay-text'), 'Expired — get a new code');
      break;
    case 'logged_out':
    case 'not_linked':
      if (view.qr) {
        setHidden(overlay, true);
      } else {
        placeholder('Preparing a code…');
        setHidden(overlay, false);
        setText($('qr-overlay-text'), view.state === 'logged_out' ? 'Unlinked' : 'Not linked yet');
      }
      break;
    default:
      if (view.linked) {
        linked = true;
        placeholder('Linked');
        setHidden(overlay, true);
        setText($('paired-detail'), view.account ? `This computer is linked to ${view.account}.` : view.detail);
      } else {
        placeholder('Connecting to WhatsApp…');
      }
  }
  setHidden($('paired-box'), !linked);
}

function renderCountdown(state) {
  const c = state.connection;
  const qr = c && c.state === 'pairing' ? c.qr : null;
  setText($('qr-countdown'), qr ? `Code ${qr.index} of ${qr.total} · new code in ${countdown(qr.expiresAtMs, state.now)}` : '');
}
