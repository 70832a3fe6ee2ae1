// vimon on-call page: keeps the server-rendered page current by polling the JSON API.
// Data from vCenter is only ever set with textContent or as attribute values.
'use strict';
(function () {
  var POLL_MS = 5000;
  var body = document.body;
  var view = body.getAttribute('data-view');
  var onlyTarget = body.getAttribute('data-target');
  var onlyVm = body.getAttribute('data-vm');

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
    s = Math.max(0, Math.floor(s));
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
      var li = el('li', {'class': isDefault ? 'choice default' : 'choice', 'data-key': str(c.key)},
        el('span', {'class': 'label'}, str(c.label)));
      if (c.summary && c.summary !== c.label) {
        li.appendChild(document.createTextNode(' '));
        li.appendChild(el('span', {'class': 'summary'}, str(c.summary)));
      }
      if (isDefault) {
        li.appendChild(document.createTextNode(' '));
        li.appendChild(el('span', {'class': 'tag'}, 'default'));
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
    return el('article', {'class': 'question', 'data-target': str(q.target), 'data-vm': str(q.vm_id),
                          'data-qid': str(q.id)},
      h, el('p', {'class': 'text'}, str(q.text)), ul, meta);
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

  function replaceChildren(parent, nodes) {
    while (parent.firstChild) parent.removeChild(parent.firstChild);
    nodes.forEach(function (n) { parent.appendChild(n); });
  }

  function emptyRow(cols) {
    return el('tr', {'class': 'empty'}, el('td', {colspan: cols}, 'None.'));
  }

  function render(targets, questions, tasks) {
    var list = document.querySelector('main .list');
    var taskBody = document.querySelector('#tasks tbody');
    var targetBody = document.querySelector('#targets tbody');
    var qs, ts;
    if (view === 'question') {
      var known = targets.some(function (t) { return t.name === onlyTarget; });
      qs = questions.filter(function (q) { return q.target === onlyTarget && q.vm_id === onlyVm; });
      ts = tasks.filter(function (t) { return t.target === onlyTarget && t.entity_id === onlyVm; });
      replaceChildren(list, qs.length ? qs.map(function (q) { return questionEl(q, tasks, false); })
        : [el('p', {'class': 'empty'}, known ? 'No question is pending on this VM.' : 'No such target.')]);
    } else {
      qs = questions;
      ts = tasks.filter(function (t) { return t.state === 'queued' || t.state === 'running'; });
      replaceChildren(list, qs.length ? qs.map(function (q) { return questionEl(q, tasks, true); })
        : [el('p', {'class': 'empty'}, 'No question is pending.')]);
      document.title = qs.length ? qs.length + ' pending question' + (qs.length === 1 ? '' : 's') + ' - vimon'
        : 'vimon';
    }
    if (taskBody) replaceChildren(taskBody, ts.length ? ts.map(taskRow) : [emptyRow(5)]);
    if (targetBody) replaceChildren(targetBody, targets.map(targetRow));
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

  function poll() {
    Promise.all([getJSON('/api/v1/targets'), getJSON('/api/v1/questions'), getJSON('/api/v1/tasks')])
      .then(function (r) {
        render(r[0], r[1], r[2]);
        setStatus('Updated ' + utc(Date.now() / 1000) + ', every ' + POLL_MS / 1000 + ' s.', false);
      })
      .catch(function (e) {
        setStatus('Cannot update (' + e.message + '); retrying every ' + POLL_MS / 1000 + ' s.', true);
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  setInterval(tick, 1000);
  poll();
})();
