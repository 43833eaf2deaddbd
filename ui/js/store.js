// What the window knows, in one place. Screens never keep state of their own and never read
// it back from the DOM: they render from the store, and change it only through `update`.
//
// State:
//   view        the screen shown ('schedules' | 'health' | 'pairing' | 'history' | 'settings')
//   navigation  how the last switch happened: {by: 'user' | 'auto' | 'start', seq}
//   connection  the last ConnectionView from the Rust side (null until the first arrives)
//   linking     a pairing episode is under way: a QR or a phone code was shown and the link
//               has not come online yet (so reaching "online" means "just linked")
//   phoneCode   the code to type on the phone, once asked for (null otherwise)
//   pairNote    a passing note for the Link-phone screen (a demo scan, an error); cleared by
//               the next connection change
//   health      the last Health snapshot
//   demo        the app runs against its built-in simulator
//   history     the History screen's data: {range, rows (newest first), more, timeline}
//   schedules   the Schedules screen's data: {list, status, open (id of the schedule whose log
//               is shown, or null), sends (that log, newest first)}
//   composing   the compose form is open: null, or {id (null for a new schedule), preview,
//               previewError}; the form's inputs are its own state
//   announcement the sentence for the live region: {text, seq}
//   now         the clock the countdowns read, advanced by one ticker

export function createStore(initial) {
  let state = Object.freeze({ ...initial });
  const subscribers = new Set();
  return {
    get: () => state,
    // `change` is a patch object or a function of the current state returning one.
    update(change) {
      const patch = typeof change === 'function' ? change(state) : change;
      if (!patch) return;
      const previous = state;
      state = Object.freeze({ ...state, ...patch });
      for (const render of subscribers) render(state, previous);
    },
    // `render(state, previous)` runs on every change; the returned function unsubscribes.
    subscribe(render) {
      subscribers.add(render);
      return () => subscribers.delete(render);
    },
  };
}

export const store = createStore({
  view: 'schedules',
  navigation: { by: 'start', seq: 0 },
  connection: null,
  linking: false,
  phoneCode: null,
  pairNote: null,
  health: null,
  demo: false,
  history: { range: 'day', rows: [], more: false, timeline: null },
  schedules: { list: [], status: null, open: null, sends: [] },
  composing: null,
  announcement: { text: '', seq: 0 },
  now: Date.now(),
});
