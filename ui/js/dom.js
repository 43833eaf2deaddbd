// Small DOM helpers shared by the screens.

export const $ = (id) => document.getElementById(id);

// Writes text only when it differs, so a re-render does not replace nodes (or re-announce a
// live region) for nothing.
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}
