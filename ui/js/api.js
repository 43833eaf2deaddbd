// The only door to the Rust side: commands (invoke) and events (listen).
// Errors from commands arrive as {code, message, advice}; callers show message and advice.
const tauri = window.__TAURI__;

export async function call(cmd, args = {}) {
  try {
    return await tauri.core.invoke(cmd, args);
  } catch (err) {
    if (err && typeof err === 'object' && 'message' in err) throw err;
    throw { code: 'internal', message: String(err), advice: '' };
  }
}

export function on(event, handler) {
  return tauri.event.listen(event, (e) => handler(e.payload));
}

export function errorText(err) {
  if (!err) return '';
  return err.advice ? `${err.message} ${err.advice}` : err.message;
}
