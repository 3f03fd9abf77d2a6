// The mail catcher's page: a list kept live by server-sent events, and a message view.
// Mail content is only ever put in the page as text (textContent); its HTML part is shown from a separate endpoint in
// a sandboxed iframe that runs no script.
'use strict';

const $ = (id) => document.getElementById(id);
let selectedId = null;
let listRequest = 0;

function formatDate(value) {
  const date = new Date(value);
  return isNaN(date) ? value : date.toLocaleString();
}

async function refreshList() {
  const request = ++listRequest;
  const q = $('search').value.trim();
  const response = await fetch('/api/messages' + (q ? '?q=' + encodeURIComponent(q) : ''));
  if (!response.ok || request !== listRequest) {
    return;
  }

  const messages = await response.json();
  if (request !== listRequest) {
    return; // A newer refresh started meanwhile.
  }

  const list = $('messages');
  list.replaceChildren(...messages.map((m) => {
    const item = document.createElement('li');
    item.dataset.id = String(m.id);
    item.classList.toggle('selected', m.id === selectedId);
    const button = document.createElement('button');
    button.type = 'button';
    const subject = document.createElement('span');
    subject.className = 'subject';
    subject.textContent = m.subject || '(no subject)';
    const from = document.createElement('span');
    from.className = 'from';
    from.textContent = m.from + ' → ' + m.to.join(', ');
    const date = document.createElement('span');
    date.className = 'date';
    date.textContent = formatDate(m.date);
    button.append(subject, from, date);
    button.addEventListener('click', () => { location.hash = '#' + m.id; });
    item.append(button);
    return item;
  }));
  $('empty').hidden = messages.length > 0;
}

function clearDetail() {
  selectedId = null;
  $('detail').hidden = true;
  $('d-html').removeAttribute('src');
}

async function showMessage(id) {
  const response = await fetch('/api/messages/' + id);
  if (!response.ok) {
    clearDetail();
    return;
  }

  const m = await response.json();
  selectedId = m.id;
  for (const item of $('messages').children) {
    item.classList.toggle('selected', item.dataset.id === String(m.id));
  }

  $('d-subject').textContent = m.subject || '(no subject)';
  $('d-from').textContent = m.from;
  $('d-to').textContent = m.to.join(', ');
  $('d-date').textContent = formatDate(m.date);
  $('d-size').textContent = m.size + ' bytes';
  $('d-error').hidden = !m.parseError;
  $('d-error').textContent = m.parseError ? 'Could not parse this message: ' + m.parseError : '';
  $('d-raw').href = '/api/messages/' + m.id + '/raw';
  $('d-text').textContent = m.text ?? '';
  const frame = $('d-html');
  frame.hidden = m.html == null;
  $('d-no-html').hidden = m.html != null;
  if (m.html != null) {
    frame.src = '/api/messages/' + m.id + '/html';
  } else {
    frame.removeAttribute('src');
  }

  $('d-attachments').replaceChildren(...m.attachments.map((a) => {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = '/api/messages/' + m.id + '/attachments/' + a.index;
    link.textContent = a.fileName;
    link.setAttribute('download', a.fileName);
    item.append(link, document.createTextNode(' (' + a.contentType + ', ' + a.size + ' bytes)'));
    return item;
  }));
  $('d-headers').tBodies[0].replaceChildren(...m.headers.map((h) => {
    const row = document.createElement('tr');
    const name = document.createElement('td');
    name.textContent = h.name;
    const value = document.createElement('td');
    value.textContent = h.value;
    row.append(name, value);
    return row;
  }));
  $('detail').hidden = false;
}

function showFromHash() {
  const id = Number(location.hash.slice(1));
  if (Number.isInteger(id) && id > 0) {
    showMessage(id);
  } else {
    clearDetail();
  }
}

function listen() {
  const events = new EventSource('/api/events');
  const live = $('live');
  events.addEventListener('ready', () => {
    live.textContent = 'live';
    document.body.dataset.live = 'connected';
    refreshList(); // Catch up on anything that arrived while not connected.
  });
  events.addEventListener('stored', refreshList);
  events.addEventListener('deleted', (e) => {
    refreshList();
    if (Number(e.data) === selectedId) {
      location.hash = '';
    }
  });
  events.addEventListener('cleared', () => {
    refreshList();
    location.hash = '';
  });
  events.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    document.body.dataset.live = 'reconnecting';
  });
}

let searchTimer = 0;
$('search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(refreshList, 200);
});
$('delete-all').addEventListener('click', async () => {
  if (confirm('Delete every message?')) {
    await fetch('/api/messages', { method: 'DELETE' });
  }
});
$('d-delete').addEventListener('click', async () => {
  if (selectedId !== null) {
    await fetch('/api/messages/' + selectedId, { method: 'DELETE' });
  }
});
window.addEventListener('hashchange', showFromHash);
refreshList();
showFromHash();
listen();
