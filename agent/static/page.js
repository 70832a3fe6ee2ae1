// vimon on-call page: keeps the server-rendered page current by polling the JSON API.
// Data from vCenter is only ever set with textContent or as attribute values.
'use strict';
(function () {
  var POLL_MS = 5000;
  var MAX_ITEMS = 500; // questions, and tasks, shown at most (as the server renders)
  var body = document.body;
  var view = body.getAttribute('data-view');
  var onlyTarget = body.getAttribute('data-target');
  var onlyVm = body.getAttribute('data-vm');
  var answering = body.getAttribute('data-answer') === '1';
  var TOKEN_KEY = 'vimon.token';
  var confirming = null; // {target, vm, qid, key, label}: the choice awaiting confirmation
  var sending = false;
  var last = null; // the data of the last render

  document.documentElement.classList.add('js');

  // el('tag', {attr: value}, child...): children are nodes or strings (text nodes).
  function el(tag, attrs) {
    var e = document.createElement(tag);
    var k, i, c;
    for (k in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] !== null && attrs[k] !== undefined) {
        e.setAttribute(k, String(attrs[k]));
      }
    }
    for (i = 2; i < arguments.length; i++) {
      c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }

  function str(v) { return typeof v === 'string' ? v : (v === null || v === undefined ? '' : String(v)); }

  function age(s) {
    s = isFinite(s) ? Math.max(0, Math.floor(s)) : 0;
    function two(n) { return (n < 10 ? '0' : '') + n; }
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + two(s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + two(Math.floor(s % 3600 / 60)) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor(s % 86400 / 3600) + 'h';
  }

  function utc(t) {
    return new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }

  function since(t) {
    return el('span', {'class': 'age', 'data-since': t.toFixed(3)}, age(Date.now() / 1000 - t));
  }

  function tick() {
    var list = document.querySelectorAll('[data-since]');
    var now = Date.now() / 1000;
    for (var i = 0; i < list.length; i++) {
      list[i].textContent = age(now - parseFloat(list[i].getAttribute('data-since')));
    }
  }

  function segment(s) { return encodeURIComponent(str(s)); }
  function questionHref(target, vm) { return '/questions/' + segment(target) + '/' + segment(vm); }

  function taskById(tasks, target, id) {
    for (var i = 0; i < tasks.length; i++) {
      if (tasks[i].target === target && tasks[i].task_id === id) return tasks[i];
    }
    return null;
  }

  function questionEl(q, tasks, link) {
    var h = el('h3', null,
      link ? el('a', {'class': 'vm', href: questionHref(q.target, q.vm_id)}, str(q.vm))
           : el('span', {'class': 'vm'}, str(q.vm)),
      ' ', el('span', {'class': 'where'}, str(q.vm_id) + ' on ' + str(q.target)));
    var ul = el('ul', {'class': 'choices'});
    (q.choices || []).forEach(function (c) {
      var isDefault = c.key === q['default'];
      var li = el('li', {'class': isDefault ? 'choice default' : 'choice', 'data-key': str(c.key)});
      // with answering on, the whole choice is the button
      var inner = answering ? el('button', {type: 'button', 'class': 'answer'}) : li;
      inner.appendChild(el('span', {'class': 'label'}, str(c.label)));
      if (c.summary && c.summary !== c.label) {
        inner.appendChild(document.createTextNode(' '));
        inner.appendChild(el('span', {'class': 'summary'}, str(c.summary)));
      }
      if (isDefault) {
        inner.appendChild(document.createTextNode(' '));
        inner.appendChild(el('span', {'class': 'tag'}, 'default'));
      }
      if (answering) {
        inner.addEventListener('click', function () { askConfirm(q, c); });
        li.appendChild(inner);
      }
      ul.appendChild(li);
    });
    var meta = el('p', {'class': 'meta'}, 'Pending for ');
    if (typeof q.first_seen === 'number') {
      meta.appendChild(since(q.first_seen));
      meta.appendChild(document.createTextNode(' (since ' + utc(q.first_seen) + ')'));
    } else {
      meta.appendChild(document.createTextNode(age(q.pending_seconds || 0)));
    }
    meta.appendChild(document.createTextNode('. Question id '));
    meta.appendChild(el('code', null, str(q.id)));
    meta.appendChild(document.createTextNode('.'));
    if (q.blocked_tasks && q.blocked_tasks.length) {
      var names = q.blocked_tasks.map(function (id) {
        var t = taskById(tasks, q.target, id);
        return t && t.task ? t.task + ' (' + id + ')' : str(id);
      });
      meta.appendChild(document.createTextNode(' '));
      meta.appendChild(el('span', {'class': 'blocks'}, 'Blocks ' + names.join(', ') + '.'));
    }
    var art = el('article', {'class': 'question', 'data-target': str(q.target), 'data-vm': str(q.vm_id),
                             'data-qid': str(q.id)},
      h, el('p', {'class': 'text'}, str(q.text)), ul, meta);
    if (confirming && confirming.target === q.target && confirming.vm === q.vm_id && confirming.qid === q.id) {
      art.appendChild(confirmEl(q));
    }
    return art;
  }

  // ---- answering: token in sessionStorage, bearer header, the server's reply shown

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function setToken(t) {
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage refused: the token lives until the page is left */ }
    memToken = t;
  }
  var memToken = '';
  function token() { return getToken() || memToken; }

  function say(text, good) {
    var box = document.getElementById('messages');
    if (!box) return;
    replaceChildren(box, [el('p', {'class': good ? 'msg good' : 'msg bad'}, text)]);
  }

  function renderAnswering() {
    var box = document.getElementById('answering');
    if (!box || !answering) return;
    if (token()) {
      var forget = el('button', {type: 'button', id: 'token-forget'}, 'Forget token');
      forget.addEventListener('click', function () { setToken(''); renderAnswering(); });
      replaceChildren(box, [el('p', null, 'Answering is on: choose an answer below. The token is kept in this tab only. ', forget)]);
      return;
    }
    var input = el('input', {type: 'password', id: 'token', autocomplete: 'off', spellcheck: 'false',
                             placeholder: 'API token', 'aria-label': 'API token'});
    var form = el('form', {id: 'token-form'},
      el('label', {'for': 'token'}, 'To answer, enter the API token: '), input, ' ',
      el('button', {type: 'submit'}, 'Use token'));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var v = input.value.trim();
      if (!v) return;
      setToken(v);
      document.addEventListener('visibilitychange', function () { if (!document.hidden) pollNow(); });
  renderAnswering();
      say('Token set for this tab.', true);
    });
    replaceChildren(box, [form]);
  }

  function askConfirm(q, c) {
    if (!token()) {
      say('Enter the API token first (at the top of the page).', false);
      var t = document.getElementById('token');
      if (t) t.focus();
      return;
    }
    confirming = {target: q.target, vm: q.vm_id, qid: q.id, key: c.key, label: str(c.label)};
    rerender();
  }

  function confirmEl(q) {
    var send = el('button', {type: 'button', 'class': 'send'}, 'Send answer');
    var cancel = el('button', {type: 'button', 'class': 'cancel'}, 'Keep it pending');
    send.disabled = sending;
    send.addEventListener('click', function () { sendAnswer(confirming); });
    cancel.addEventListener('click', function () { confirming = null; rerender(); });
    return el('div', {'class': 'confirm'},
      el('p', null, 'Answer question ' + str(q.id) + ' of ' + str(q.vm) + ' with \u201c' + confirming.label + '\u201d?'),
      send, ' ', cancel);
  }

  function sendAnswer(c) {
    if (!c || sending) return;
    sending = true;
    rerender();
    fetch('/api/v1/questions/answer', {
      method: 'POST', cache: 'no-store', credentials: 'omit',
      headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token()},
      body: JSON.stringify({target: c.target, vm_id: c.vm, question_id: c.qid, choice: c.key})
    }).then(function (r) {
      return r.text().then(function (text) {
        var j = null;
        try { j = JSON.parse(text); } catch (e) { /* not JSON: the status says it */ }
        var msg = j && typeof j.message === 'string' ? j.message : 'HTTP ' + r.status;
        if (r.ok) {
          say(msg, true);
        } else {
          say('Refused (HTTP ' + r.status + (j && j.result ? ', ' + j.result : '') + '): ' + msg, false);
          if (r.status === 401) { setToken(''); renderAnswering(); }
        }
      });
    }).catch(function (e) {
      say('The answer could not be sent: ' + e.message, false);
    }).then(function () {
      sending = false;
      confirming = null;
      pollNow();
    });
  }

  function taskRow(t) {
    var active = t.state === 'queued' || t.state === 'running';
    var start = typeof t.queue_time === 'number' ? t.queue_time : t.start_time;
    var state = str(t.state) + (t.error ? ': ' + str(t.error.message) : '');
    return el('tr', {'class': t.blocked ? 'blocked' : null, 'data-task': str(t.task_id)},
      el('td', null, str(t.task) + ' ', el('span', {'class': 'where'}, str(t.task_id))),
      el('td', null, str(t.entity) + ' ',
         el('span', {'class': 'where'}, str(t.entity_id) + ' on ' + str(t.target))),
      el('td', {'class': 'state'}, state),
      el('td', null, active && typeof start === 'number' ? since(start) : null),
      el('td', null, t.blocked ? el('a', {href: questionHref(t.target, t.entity_id)},
                                    'blocked by question ' + str(t.question_id)) : null));
  }

  function targetRow(t) {
    var last = typeof t.last_update === 'number'
      ? el('td', null, utc(t.last_update) + ' (', since(t.last_update), ' ago)')
      : el('td', null, 'never');
    var err = t.last_error;
    var errTd = err
      ? el('td', null, str(err.message) + (err.fault ? ' (fault ' + err.fault + ')' : '') + ' ',
           el('span', {'class': 'where'}, str(err.kind) + ' error'))
      : el('td', null, 'none');
    return el('tr', {'data-target': str(t.name)},
      el('td', null, str(t.name) + ' ', el('span', {'class': 'where'}, str(t.url))),
      t.up ? el('td', {'class': 'up'}, 'up') : el('td', {'class': 'down'}, 'down'),
      last, errTd, el('td', null, String(t.logins || 0)));
  }

  function decidedBy(d) {
    return d.rule ? 'rule ' + d.rule : 'HTTP client ' + (d.client || '?');
  }

  function decisionLabel(d) {
    var c = (d.choices || []).filter(function (x) { return x.key === d.choice; })[0];
    return c ? c.label : null;
  }

  function decisionRow(d) {
    var label = decisionLabel(d);
    var what = str(d.action) + ': ' + str(d.decision) +
      (d.choice ? ', choice ' + d.choice + (label ? ' (' + label + ')' : '') : '');
    return el('tr', null,
      el('td', null, typeof d.timestamp === 'number' ? utc(d.timestamp) + ' (' : '',
         typeof d.timestamp === 'number' ? since(d.timestamp) : null,
         typeof d.timestamp === 'number' ? ' ago)' : ''),
      el('td', null, str(d.vm) + ' ', el('span', {'class': 'where'},
         str(d.vm_id) + ' on ' + str(d.target) + ', question ' + str(d.question_id))),
      el('td', null, what),
      el('td', {'class': 'result'}, str(d.result) + ' ', el('span', {'class': 'where'}, str(d.message))),
      el('td', null, decidedBy(d)));
  }

  function answeredEl(decisions) {
    var d = decisions.filter(function (x) { return x.result === 'answered'; })[0];
    if (!d) return null;
    var label = decisionLabel(d);
    return el('p', {'class': 'answered'}, 'Question ', el('code', null, str(d.question_id)),
      ' was answered with choice ' + str(d.choice) + (label ? ' (' + label + ')' : '') + ' by ' +
      decidedBy(d) + (typeof d.timestamp === 'number' ? ' at ' + utc(d.timestamp) : '') + '.');
  }

  function replaceChildren(parent, nodes) {
    while (parent.firstChild) parent.removeChild(parent.firstChild);
    nodes.forEach(function (n) { parent.appendChild(n); });
  }

  function more(n, url, tag) {
    return el(tag, tag === 'td' ? {colspan: 5} : {'class': 'more'},
      'And ' + n + ' more: see ', el('a', {href: url}, url), '.');
  }

  function emptyRow(cols) {
    return el('tr', {'class': 'empty'}, el('td', {colspan: cols}, 'None.'));
  }

  function render(targets, questions, tasks, decisions) {
    var list = document.querySelector('main .list');
    var taskBody = document.querySelector('#tasks tbody');
    var targetBody = document.querySelector('#targets tbody');
    var decisionBody = document.querySelector('#decisions tbody');
    var qs, ts, ds;
    last = [targets, questions, tasks, decisions];
    if (view === 'question') {
      var known = targets.some(function (t) { return t.name === onlyTarget; });
      qs = questions.filter(function (q) { return q.target === onlyTarget && q.vm_id === onlyVm; });
      ts = tasks.filter(function (t) { return t.target === onlyTarget && t.entity_id === onlyVm; });
      ds = decisions.filter(function (d) { return d.target === onlyTarget && d.vm_id === onlyVm; });
      if (changed(qs, tasks, [known, ds.filter(function (d) { return d.result === 'answered'; })[0]])) {
        replaceChildren(list, qs.length ? qs.map(function (q) { return questionEl(q, tasks, false); })
          : [el('p', {'class': 'empty'}, known ? 'No question is pending on this VM.' : 'No such target.'),
             known ? answeredEl(ds) : null].filter(function (n) { return n; }));
      }
    } else {
      ds = decisions;
      qs = questions;
      ts = tasks.filter(function (t) { return t.state === 'queued' || t.state === 'running'; });
      if (changed(qs, tasks, null)) {
        replaceChildren(list, qs.length ? qs.slice(0, MAX_ITEMS).map(function (q) { return questionEl(q, tasks, true); })
          .concat(qs.length > MAX_ITEMS ? [more(qs.length - MAX_ITEMS, '/api/v1/questions', 'p')] : [])
          : [el('p', {'class': 'empty'}, 'No question is pending.')]);
      }
      document.title = qs.length ? qs.length + ' pending question' + (qs.length === 1 ? '' : 's') + ' - vimon'
        : 'vimon';
    }
    if (taskBody) {
      replaceChildren(taskBody, ts.length ? ts.slice(0, MAX_ITEMS).map(taskRow)
        .concat(ts.length > MAX_ITEMS ? [el('tr', {'class': 'more'}, more(ts.length - MAX_ITEMS, '/api/v1/tasks', 'td'))] : [])
        : [emptyRow(5)]);
    }
    if (targetBody) replaceChildren(targetBody, targets.map(targetRow));
    ds = ds.slice(0, 20);
    if (decisionBody) replaceChildren(decisionBody, ds.length ? ds.map(decisionRow) : [emptyRow(5)]);
  }

  // The questions are redrawn only when what they show changed (not for their growing
  // pending_seconds; the ages tick by themselves), so a button is not replaced under a click.
  var listKey = null;
  function changed(qs, tasks, extra) {
    var key = JSON.stringify([qs.map(function (q) {
      var names = (q.blocked_tasks || []).map(function (id) {
        var t = taskById(tasks, q.target, id);
        return t ? t.task : null;
      });
      return [q.target, q.vm_id, q.id, q.vm, q.text, q.choices, q['default'], q.first_seen,
              q.blocked_tasks, names];
    }), extra, confirming, sending]);
    if (key === listKey) return false;
    listKey = key;
    return true;
  }

  function rerender() {
    if (last) render(last[0], last[1], last[2], last[3]);
  }

  function getJSON(url) {
    return fetch(url, {cache: 'no-store', credentials: 'omit'}).then(function (r) {
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
      return r.json();
    });
  }

  function setStatus(text, bad) {
    var s = document.getElementById('status');
    if (!s) return;
    s.textContent = text;
    s.classList.toggle('bad', !!bad);
  }

  var timer = null;
  function poll() {
    timer = null;
    // a tab nobody looks at costs the agent nothing; it catches up when shown again
    if (document.hidden) {
      timer = setTimeout(poll, POLL_MS);
      return;
    }
    Promise.all([getJSON('/api/v1/targets'), getJSON('/api/v1/questions'), getJSON('/api/v1/tasks'),
                 getJSON('/api/v1/remediation')])
      .then(function (r) {
        render(r[0], r[1], r[2], r[3]);
        setStatus('Updated ' + utc(Date.now() / 1000) + ', every ' + POLL_MS / 1000 + ' s.', false);
      })
      .catch(function (e) {
        setStatus('Cannot update (' + e.message + '); retrying every ' + POLL_MS / 1000 + ' s.', true);
      })
      .then(function () { if (!timer) timer = setTimeout(poll, POLL_MS); });
  }

  // soon after an answer: the agent sees the question go within a second or two
  function pollNow() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, 300);
  }

  document.addEventListener('visibilitychange', function () { if (!document.hidden) pollNow(); });
  renderAnswering();
  setInterval(tick, 1000);
  poll();
})();
