// Herald's window. Talks to the Rust side only through commands and events.
const { invoke } = window.__TAURI__.core;

const $ = (id) => document.getElementById(id);

function showConnection(view) {
  $('state-label').textContent = view.label;
  $('state-detail').textContent = view.detail;
  $('state-dot').dataset.state = view.state;
  document.title = `Herald — ${view.label}`;
}

async function start() {
  $('quit-btn').addEventListener('click', () => invoke('quit'));
  try {
    showConnection(await invoke('connection_state'));
  } catch (err) {
    $('state-label').textContent = 'Unknown';
    $('state-detail').textContent = `Herald could not read its state: ${err.message ?? err}`;
  }
  // Tell the shell the first screen is painted (after the next frame, not before).
  requestAnimationFrame(() => requestAnimationFrame(() => invoke('ui_ready')));
}

start();
