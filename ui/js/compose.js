// The compose form of the Schedules screen: a new schedule or an edit of one. The inputs are
// the form's own state; the store holds only that the form is open (`composing`) and its
// preview. Every check is made on the Rust side: a refusal names its field, which gets the
// focus and the message, and nothing is saved.
import { call, errorText } from './api.js';
import { $, setText, setHidden } from './dom.js';
import { store } from './store.js';
import { toast } from './toast.js';
import { absolute, dstNote } from './when.js';

const MAX_CHARS = 65536;
const PREVIEW_AFTER_MS = 250;
// A number is asked about once typing pauses this long (at once when the field is left).
const CHECK_AFTER_MS = 700;
const userZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

// The form's input for each field the Rust side may name.
const FIELDS = {
  to: () => (kind() === 'group' ? 'c-group' : 'c-phone'),
  text: 'c-text', date: 'c-date', time: 'c-time', zone: 'c-zone', repeat: 'c-repeat',
  every: 'c-every', weekdays: 'c-weekday-first', until: 'c-until', count: 'c-count-n',
  catchUp: 'c-catch-up', catchUpMinutes: 'c-catch-up-min',
};

let previewTimer = null;
let checkTimer = null;
// The number last asked about (country and text) and WhatsApp's answer; `seq` drops answers
// to a number that was changed while it was being asked.
let check = { key: '', result: null, seq: 0 };
let lists = null;
// The account's groups as WhatsApp last listed them, and why not when it could not.
let groups = { list: null, why: '' };

const form = () => $('compose');
const kind = () => form().elements.toKind.value;

export function init() {
  const f = form();
  f.querySelector('input[name=weekday]').id = 'c-weekday-first';
  f.addEventListener('submit', save);
  f.addEventListener('input', changed);
  f.addEventListener('change', changed);
  $('compose-cancel').addEventListener('click', close);
  f.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
}

// The country and zone lists, once.
async function loadLists() {
  if (lists) return lists;
  const [countries, zones, status] = await Promise.all([
    call('phone_countries'), call('time_zones'), call('scheduler_status'),
  ]);
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  const named = countries.map((c) => ({ ...c, name: names.of(c.region) ?? c.region }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const region = $('c-region');
  const intl = new Option('Number with + and country code', '');
  region.replaceChildren(intl, ...named.map((c) => new Option(`${c.name} (+${c.callingCode})`, c.region)));
  $('c-zones').replaceChildren(...zones.zones.map((z) => new Option(z, z)));
  lists = { zones, status, defaultRegion: (navigator.language.split('-')[1] ?? '').toUpperCase() };
  return lists;
}

// Opens the form: `schedule` to edit it, or null for a new one (from `draft` when given, e.g.
// a copy whose time has passed).
export async function open(schedule, draft = null, note = '') {
  try {
    await loadLists();
  } catch (err) {
    toast(errorText(err));
    return;
  }
  const f = form();
  f.reset();
  clearErrors();
  const d = schedule ? schedule.draft : draft;
  setText($('compose-title'), schedule ? `Edit the schedule to ${schedule.to}` : 'New schedule');
  setText($('compose-save'), schedule ? 'Save changes' : 'Save schedule');
  fill(d);
  store.update({ composing: { id: schedule ? schedule.id : null, preview: [], previewError: null } });
  check = { key: '', result: null, seq: check.seq + 1 };
  showCheck(null);
  if (d && kind() === 'phone') scheduleCheck(0);
  setHidden(f, false);
  setText($('compose-error'), note);
  (d ? $(note ? 'c-date' : 'c-text') : $('c-phone')).focus();
  updateForm();
  schedulePreview();
}

export function close() {
  clearTimeout(previewTimer);
  clearTimeout(checkTimer);
  setHidden(form(), true);
  store.update({ composing: null });
  $('new-schedule-btn').focus();
}

function fill(d) {
  const f = form().elements;
  f.region.value = lists.defaultRegion && [...f.region.options].some((o) => o.value === lists.defaultRegion) ? lists.defaultRegion : '';
  if (!d) {
    const soon = new Date(Date.now() + 3600_000);
    f.date.value = soon.toLocaleDateString('sv-SE');
    f.time.value = `${String(soon.getHours()).padStart(2, '0')}:00`;
    f.zone.value = lists.zones.system ?? userZone;
    updateCount();
    return;
  }
  const group = d.to.endsWith('@g.us');
  f.toKind.value = group ? 'group' : 'phone';
  if (group) { f.group.value = d.to; loadGroups(); } else { f.phone.value = d.to; f.region.value = ''; }
  f.text.value = d.text;
  f.date.value = d.date;
  f.time.value = d.time;
  f.zone.value = d.zone;
  f.repeat.value = d.repeat;
  f.every.value = d.every;
  for (const box of form().querySelectorAll('input[name=weekday]')) box.checked = d.weekdays.includes(box.value);
  f.lastDay.checked = d.lastDay;
  f.end.value = d.until ? 'until' : d.count ? 'count' : 'never';
  f.until.value = d.until ?? '';
  f.count.value = d.count ?? '';
  f.catchUp.value = d.catchUp;
  if (d.catchUpMinutes) f.catchUpMinutes.value = d.catchUpMinutes;
  f.skipIfReplied.checked = d.skipIfReplied;
  updateCount();
}

// The form as a draft for the Rust side.
function draft() {
  const f = form().elements;
  const group = kind() === 'group';
  const repeat = f.repeat.value;
  const end = repeat === 'once' ? 'never' : f.end.value;
  return {
    to: group ? f.group.value : f.phone.value,
    region: group ? null : (f.region.value || null),
    text: f.text.value,
    date: f.date.value,
    time: f.time.value,
    zone: f.zone.value,
    repeat,
    every: Number.parseInt(f.every.value, 10) || 0,
    weekdays: [...form().querySelectorAll('input[name=weekday]:checked')].map((b) => b.value),
    lastDay: f.lastDay.checked,
    until: end === 'until' ? f.until.value : null,
    count: end === 'count' ? (Number.parseInt(f.count.value, 10) || 0) : null,
    catchUp: f.catchUp.value,
    catchUpMinutes: f.catchUp.value === 'within' ? (Number.parseInt(f.catchUpMinutes.value, 10) || 0) : null,
    skipIfReplied: f.skipIfReplied.checked,
  };
}

// Asks WhatsApp for the account's groups (each time the Group choice is made: they change).
async function loadGroups() {
  try {
    groups = { list: await call('account_groups'), why: '' };
  } catch (err) {
    groups = { list: null, why: err.message };
  }
  const pick = $('c-group-pick');
  const current = form().elements.group.value;
  pick.replaceChildren(new Option(groups.list ? 'Choose a group…' : 'Not listed now', ''),
    ...(groups.list ?? []).map((g) => new Option(`${g.subject} (${g.members})`, g.jid)));
  pick.disabled = !groups.list || groups.list.length === 0;
  pick.value = (groups.list ?? []).some((g) => g.jid === current) ? current : '';
  updateForm();
}

function changed(e) {
  if (e.target.name === 'text') updateCount();
  if (['phone', 'region', 'toKind'].includes(e.target.name)) scheduleCheck(e.type === 'change' ? 0 : CHECK_AFTER_MS);
  if (e.target.name === 'toKind' && kind() === 'group') loadGroups();
  if (e.target.name === 'groupPick' && e.target.value) form().elements.group.value = e.target.value;
  updateForm();
  schedulePreview();
}

function updateCount() {
  const n = [...form().elements.text.value].length;
  setText($('c-count'), `${n.toLocaleString('en')} / ${MAX_CHARS.toLocaleString('en')} characters`);
}

// Shows the fields the chosen options need, and what Herald cannot list.
function updateForm() {
  const f = form().elements;
  const group = kind() === 'group';
  setHidden($('to-phone'), group);
  setHidden($('to-group'), !group);
  const status = lists?.status;
  let groupNote = '';
  if (status && !status.listsGroups) groupNote = 'Herald cannot list your groups: paste the group\'s address, which ends in @g.us.';
  else if (groups.why) groupNote = `${groups.why} Your groups are listed while Herald is online; you can paste a group's address instead.`;
  else if (groups.list && !groups.list.length) groupNote = 'WhatsApp lists no groups for this account.';
  setText($('c-to-note'), group ? groupNote : '');
  const repeat = f.repeat.value;
  const show = {
    repeating: repeat !== 'once', weeks: repeat === 'weeks', months: repeat === 'months',
    until: repeat !== 'once' && f.end.value === 'until', count: repeat !== 'once' && f.end.value === 'count',
    within: f.catchUp.value === 'within',
  };
  for (const node of form().querySelectorAll('[data-when]')) setHidden(node, !show[node.dataset.when]);
}

// Whether the number is on WhatsApp, asked of the Rust side once it looks complete. The
// answer is only shown: saving checks again there, and refuses a number WhatsApp does not know.
function scheduleCheck(delay) {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(checkNumber, delay);
}

async function checkNumber() {
  const f = form().elements;
  const to = f.phone.value.trim();
  const key = `${f.region.value}|${to}`;
  if (kind() !== 'phone' || !store.get().composing || to.replace(/\D/g, '').length < 7) {
    check = { key: '', result: null, seq: check.seq + 1 };
    showCheck(null);
    return;
  }
  if (key === check.key) return;
  const seq = check.seq + 1;
  check = { key, result: null, seq };
  showCheck({ status: 'checking' });
  let result;
  try {
    result = await call('check_number', { to, region: f.region.value || null });
  } catch (err) {
    // Not a valid number (yet): saving names the field; while typing, say nothing.
    result = err.field === 'to' ? null : { status: 'unchecked', reason: 'failed' };
  }
  if (seq !== check.seq) return;
  check = { key, result, seq };
  showCheck(result);
}

const UNCHECKED = {
  offline: 'Can\'t check while offline — it will be checked when it is sent.',
  not_linked: 'Can\'t check before this computer is linked — it will be checked when it is sent.',
  timeout: 'WhatsApp did not answer in time — it will be checked when it is sent.',
  failed: 'Can\'t check the number now — it will be checked when it is sent.',
};

function showCheck(result) {
  const line = $('c-check');
  const status = result?.status;
  if (!status || status === 'not_a_number') {
    line.replaceChildren();
    line.removeAttribute('data-status');
    setHidden(line, true);
    return;
  }
  line.dataset.status = status;
  const pill = (tone, text) => {
    const span = document.createElement('span');
    span.className = 'pill';
    span.dataset.tone = tone;
    span.textContent = text;
    return span;
  };
  if (status === 'checking') line.replaceChildren('Checking on WhatsApp…');
  else if (status === 'on_whatsapp') line.replaceChildren(pill('ok', 'On WhatsApp ✓'));
  else if (status === 'not_on_whatsapp') {
    line.replaceChildren(pill('bad', 'Not on WhatsApp'), ` ${result.phone} has no WhatsApp account, so a schedule to it cannot be saved.`);
  } else line.replaceChildren(pill('warn', UNCHECKED[result.reason] ?? UNCHECKED.failed));
  setHidden(line, false);
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(loadPreview, PREVIEW_AFTER_MS);
}

async function loadPreview() {
  const c = store.get().composing;
  if (!c) return;
  const d = draft();
  let preview = [];
  let previewError = null;
  try {
    preview = await call('preview_schedule', { draft: d, count: 5 });
  } catch (err) {
    previewError = err.message;
  }
  if (store.get().composing === c) store.update({ composing: { ...c, preview, previewError } });
}

export function render(state, previous) {
  const c = state.composing;
  if (!c || c === previous.composing) return;
  const items = c.preview.map((o) => {
    const li = document.createElement('li');
    li.textContent = absolute(o.atMs, o.zone) + (o.zone !== userZone ? ` ${o.zone} · your time ${absolute(o.atMs, userZone)}` : '');
    const note = dstNote(o);
    if (note) {
      const flag = document.createElement('span');
      flag.className = 'pill dst';
      flag.dataset.tone = 'warn';
      flag.textContent = `DST: ${note}`;
      li.append(' ', flag);
      li.dataset.dst = o.dst;
    }
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = c.previewError ?? 'No sends ahead.';
    items.push(li);
  }
  $('c-preview').replaceChildren(...items);
}

function clearErrors() {
  for (const input of form().querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  setText($('compose-error'), '');
}

async function save(e) {
  e.preventDefault();
  clearErrors();
  const c = store.get().composing;
  if (!c) return;
  try {
    const saved = c.id == null
      ? await call('create_schedule', { draft: draft() })
      : await call('edit_schedule', { id: c.id, draft: draft() });
    close();
    toast(`Saved: ${saved.timing}.`, 'info');
  } catch (err) {
    const target = FIELDS[err.field];
    const input = target && $(typeof target === 'function' ? target() : target);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-errormessage', 'compose-error');
      input.focus();
    }
    setText($('compose-error'), errorText(err));
  }
}
