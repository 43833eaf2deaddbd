// The Link-phone screen: the rotating QR with its countdown, expiry and a new code, pairing
// by phone number, and the success state.
import { call, errorText } from './api.js';
import { countdown } from './format.js';
import { toast } from './app.js';

const $ = (id) => document.getElementById(id);
let qr = null;          // {svg, expiresAtMs, index, total}
let lastState = null;
let pairedAt = 0;

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
      $('pair-code').textContent = res.code;
      $('pair-code-box').hidden = false;
    } catch (err) {
      input.setAttribute('aria-invalid', 'true');
      $('phone-error').textContent = errorText(err);
    }
  });
  setInterval(tick, 250);
}

export function isPairingByPhone() {
  return $('phone-pairing').open && !$('pair-code-box').hidden;
}

export function justPaired() {
  return pairedAt && Date.now() - pairedAt < 10000;
}

function showSvg(svgText) {
  const box = $('qr-box');
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName.toLowerCase() !== 'svg') return;
  box.replaceChildren(document.importNode(svg, true));
}

function placeholder(text) {
  const p = document.createElement('p');
  p.className = 'placeholder';
  p.textContent = text;
  $('qr-box').replaceChildren(p);
}

export function showConnection(view) {
  const previous = lastState;
  lastState = view.state;
  const overlay = $('qr-overlay');
  $('paired-box').hidden = true;
  if (view.qr) {
    if (!qr || qr.svg !== view.qr.svg) showSvg(view.qr.svg);
    qr = view.qr;
    overlay.hidden = true;
    $('pair-status').textContent = 'Waiting for your phone to scan the code…';
  } else {
    qr = null;
  }
  if (view.pairCode) {
    $('pair-code').textContent = view.pairCode;
    $('pair-code-box').hidden = false;
  }
  switch (view.state) {
    case 'qr_expired':
      overlay.hidden = false;
      $('qr-overlay-text').textContent = 'Expired — get a new code';
      $('pair-status').textContent = 'The codes expired before a scan.';
      break;
    case 'logged_out':
    case 'not_linked':
      if (!view.qr) {
        placeholder('Preparing a code…');
        overlay.hidden = false;
        $('qr-overlay-text').textContent = view.state === 'logged_out' ? 'Unlinked' : 'Not linked yet';
      }
      $('pair-status').textContent = view.detail;
      break;
    case 'pairing':
    case 'pairing_code':
      break;
    default:
      if (view.linked) {
        placeholder('Linked');
        overlay.hidden = true;
        $('pair-status').textContent = '';
        $('pair-code-box').hidden = true;
        $('paired-box').hidden = false;
        $('paired-detail').textContent = view.account ? `This computer is linked to ${view.account}.` : view.detail;
        if (previous === 'pairing' || previous === 'pairing_code' || previous === 'logging_in') pairedAt = Date.now();
      } else {
        placeholder('Connecting to WhatsApp…');
      }
  }
  tick();
}

function tick() {
  const el = $('qr-countdown');
  if (qr && lastState === 'pairing') {
    el.textContent = `Code ${qr.index} of ${qr.total} · new code in ${countdown(qr.expiresAtMs)}`;
  } else {
    el.textContent = '';
  }
}
