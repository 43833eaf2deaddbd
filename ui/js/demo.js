// Demo mode: simulate the phone's scan and inject faults into the built-in simulator.
import { call, errorText } from './api.js';
import { $, setHidden } from './dom.js';
import { store } from './store.js';

export function init() {
  const scan = $('simulate-scan-btn');
  scan.addEventListener('click', async () => {
    try {
      await call('demo_scan');
      store.update({ pairNote: 'The simulated phone scanned the code…' });
    } catch (err) {
      store.update({ pairNote: errorText(err) });
    }
  });
  for (const b of document.querySelectorAll('[data-fault]')) {
    b.addEventListener('click', async () => {
      const status = $('demo-status');
      try {
        await call('demo_fault', { kind: b.dataset.fault });
        status.textContent = `Injected: ${b.textContent}`;
      } catch (err) {
        status.textContent = errorText(err);
      }
    });
  }
}

export function render(state, previous) {
  if (state.demo === previous.demo) return;
  setHidden($('demo-badge'), !state.demo);
  setHidden($('demo-panel'), !state.demo);
  setHidden($('simulate-scan-btn'), !state.demo);
}
