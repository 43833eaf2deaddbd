// Demo mode: simulate the phone's scan and inject faults into the built-in simulator.
import { call, errorText } from './api.js';

const $ = (id) => document.getElementById(id);

export function init() {
  $('demo-badge').hidden = false;
  $('demo-panel').hidden = false;
  const scan = $('simulate-scan-btn');
  scan.hidden = false;
  scan.addEventListener('click', async () => {
    try {
      await call('demo_scan');
      $('pair-status').textContent = 'The simulated phone scanned the code…';
    } catch (err) {
      $('pair-status').textContent = errorText(err);
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
