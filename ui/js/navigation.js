// Which screen to show, decided from state alone: a pure function of the state before and the
// state after a connection change, so it needs no timers and reads nothing from the DOM.
// Imports nothing, so the tests can run it outside the window.

// The screens' names as the sidebar shows them (used when announcing an automatic switch).
export const VIEW_NAMES = {
  schedules: 'Schedules',
  health: 'Connection',
  pairing: 'Link phone',
  history: 'History',
  settings: 'Settings',
};

// The screens a lost link may take the user away from: the overviews, where nobody is reading
// or typing anything.
const OVERVIEWS = new Set(['schedules', 'health']);
// States in which the user has to act on the Link-phone screen.
const NEEDS_PAIRING = new Set(['pairing', 'qr_expired', 'logged_out']);
// States that show something to scan or type.
const SHOWS_A_CODE = new Set(['pairing', 'pairing_code']);
// States passed through between a scan and being online; a pairing episode survives them.
const ON_THE_WAY = new Set(['idle', 'connecting', 'logging_in', 'backoff']);
// States in which the Link-phone screen keeps a phone code on show.
const KEEPS_PHONE_CODE = new Set(['pairing', 'pairing_code', 'qr_expired', 'logged_out', 'not_linked']);

// The screen to switch to, or null to stay. `previous` and `next` are whole store states;
// `next` carries the new connection but still the old view.
export function route(previous, next) {
  const was = previous.connection ? previous.connection.state : null;
  const now = next.connection ? next.connection.state : null;
  // Only a change of state moves anyone: a new QR in the same state must not pull the user
  // back to a screen they just left.
  if (now === null || now === was) return null;
  // Where the user needs to act, take them there, but only from an overview (Schedules,
  // Connection), so nobody is pulled out of a form, History or Settings in the middle of
  // reading or typing, and not while they are typing a phone code on their phone.
  if (NEEDS_PAIRING.has(now) && OVERVIEWS.has(next.view) && !next.phoneCode && !next.composing) return 'pairing';
  // Linking just finished: Schedules is the first screen of a linked Herald.
  if (now === 'online' && previous.linking && next.view === 'pairing') return 'schedules';
  return null;
}

// The store patch for a ConnectionView that arrived from the Rust side.
export function connectionArrived(state, connection) {
  const linking = SHOWS_A_CODE.has(connection.state)
    || (state.linking && ON_THE_WAY.has(connection.state));
  let phoneCode = state.phoneCode;
  if (connection.pairCode) phoneCode = connection.pairCode;
  else if (connection.linked && !KEEPS_PHONE_CODE.has(connection.state)) phoneCode = null;
  const next = { ...state, connection, linking, phoneCode, pairNote: null };
  const patch = { connection, linking, phoneCode, pairNote: null };

  const labelChanged = !state.connection || state.connection.label !== connection.label;
  let text = labelChanged ? connection.label : '';
  const view = route(state, next);
  if (view && view !== state.view) {
    patch.view = view;
    patch.navigation = { by: 'auto', seq: state.navigation.seq + 1 };
    // A switch the user did not ask for is said out loud, with the reason first.
    text = `${connection.label}. Showing ${VIEW_NAMES[view]}.`;
  }
  if (text) patch.announcement = { text, seq: state.announcement.seq + 1 };
  return patch;
}

// The store patch for the user choosing a screen.
export function userNavigated(state, view) {
  if (!(view in VIEW_NAMES)) return null;
  return { view, navigation: { by: 'user', seq: state.navigation.seq + 1 } };
}
