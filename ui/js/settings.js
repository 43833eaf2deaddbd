// The Settings screen: load, edit, validate on the Rust side, save.
import { call, errorText } from './api.js';

const $ = (id) => document.getElementById(id);

const numbers = ['pingAfterSilenceSecs', 'connectTimeoutSecs', 'queryTimeoutSecs'];

export function init() {
  $('settings-form').addEventListener('submit', save);
  $('bundle-btn').addEventListener('click', async () => {
    $('bundle-status').textContent = 'Saving…';
    try {
      const res = await call('save_support_bundle');
      $('bundle-status').textContent = `Saved to ${res.path}`;
    } catch (err) {
      $('bundle-status').textContent = errorText(err);
    }
  });
}

export async function load() {
  try {
    fill(await call('get_settings'));
  } catch (err) {
    $('settings-error').textContent = errorText(err);
  }
}

function fill(s) {
  const f = $('settings-form');
  for (const n of numbers) f.elements[n].value = s[n];
  f.elements.versionOverride.value = s.versionOverride ?? '';
  f.elements.presence.value = s.presence;
  f.elements.startAtLogin.checked = s.startAtLogin;
}

async function save(e) {
  e.preventDefault();
  const f = $('settings-form');
  for (const input of f.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  $('settings-error').textContent = '';
  const s = {};
  for (const n of numbers) {
    s[n] = Number.parseInt(f.elements[n].value, 10);
    if (Number.isNaN(s[n])) {
      f.elements[n].setAttribute('aria-invalid', 'true');
      f.elements[n].focus();
      $('settings-error').textContent = 'Enter a whole number of seconds.';
      return;
    }
  }
  const version = f.elements.versionOverride.value.trim();
  s.versionOverride = version === '' ? null : version;
  s.presence = f.elements.presence.value;
  s.startAtLogin = f.elements.startAtLogin.checked;
  try {
    fill(await call('set_settings', { settings: s }));
    $('settings-status').textContent = 'Saved.';
    setTimeout(() => { $('settings-status').textContent = ''; }, 3000);
  } catch (err) {
    if (err.field && f.elements[err.field]) {
      f.elements[err.field].setAttribute('aria-invalid', 'true');
      f.elements[err.field].focus();
    }
    $('settings-error').textContent = errorText(err);
  }
}
