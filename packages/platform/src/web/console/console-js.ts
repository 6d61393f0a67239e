/**
 * The script every console page loads (served under a content-hashed URL; the CSP allows no inline script).
 * Pages work without it: it only adds what a careful operator expects on top of plain forms.
 * - `data-confirm` on a form or its submit button: a modal asks first; 取消 leaves everything as it was.
 * - `data-require-checked="<name>"` on a submit button: with no box of that name ticked, an error appears
 *   beside the button (id in its `aria-describedby`) and nothing is sent.
 * - `data-copy="<id>"` on a button copies that element's text.
 * - The side menu (`#nav-box`, a <details>) starts folded on a narrow screen and remembers 收起 on a wide one.
 * - The first field marked `aria-invalid` gets the focus, so a keyboard or screen-reader user lands on it.
 */
export const CONSOLE_JS = `(function () {
  'use strict';
  var dialog = null;
  var pending = null;

  function buildDialog() {
    dialog = document.createElement('dialog');
    dialog.id = 'confirm-dialog';
    dialog.setAttribute('aria-labelledby', 'confirm-title');
    dialog.setAttribute('aria-describedby', 'confirm-message');
    var title = document.createElement('h3');
    title.id = 'confirm-title';
    title.textContent = '请确认';
    var message = document.createElement('p');
    message.id = 'confirm-message';
    var actions = document.createElement('div');
    actions.className = 'dialog-actions';
    var cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.id = 'confirm-cancel';
    cancel.className = 'secondary';
    cancel.textContent = '取消';
    var ok = document.createElement('button');
    ok.type = 'button';
    ok.id = 'confirm-ok';
    ok.className = 'danger';
    ok.textContent = '确定';
    actions.appendChild(cancel);
    actions.appendChild(ok);
    dialog.appendChild(title);
    dialog.appendChild(message);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);
    cancel.addEventListener('click', function () { pending = null; dialog.close(); });
    dialog.addEventListener('cancel', function () { pending = null; });
    ok.addEventListener('click', function () {
      var p = pending;
      pending = null;
      dialog.close();
      if (!p) return;
      p.form.setAttribute('data-confirmed', '1');
      if (p.submitter) p.form.requestSubmit(p.submitter); else p.form.requestSubmit();
    });
  }

  function ask(form, submitter, text) {
    if (!dialog) buildDialog();
    dialog.querySelector('#confirm-message').textContent = text;
    var ok = (submitter && submitter.getAttribute('data-confirm-ok')) || form.getAttribute('data-confirm-ok');
    dialog.querySelector('#confirm-ok').textContent = ok || '确定';
    pending = { form: form, submitter: submitter };
    dialog.showModal();
    dialog.querySelector('#confirm-cancel').focus();
  }

  function nothingTicked(form, submitter) {
    var name = submitter && submitter.getAttribute('data-require-checked');
    if (!name) return false;
    var boxes = form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) return false;
    var errorId = submitter.getAttribute('aria-describedby');
    var error = errorId && document.getElementById(errorId);
    if (error) { error.hidden = false; error.textContent = submitter.getAttribute('data-require-message') || '请先勾选'; }
    submitter.focus();
    return true;
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    var submitter = e.submitter || null;
    if (nothingTicked(form, submitter)) { e.preventDefault(); return; }
    var text = (submitter && submitter.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (!text) return;
    if (form.getAttribute('data-confirmed') === '1') { form.removeAttribute('data-confirmed'); return; }
    e.preventDefault();
    ask(form, submitter, text);
  }, true);

  document.addEventListener('change', function (e) {
    var t = e.target;
    if (!t || t.type !== 'checkbox') return;
    var col = t.getAttribute('data-col');
    var table = col && document.getElementById(t.getAttribute('data-table'));
    if (table) table.classList.toggle('hide-' + col, !t.checked);
    var errors = document.querySelectorAll('.check-error');
    for (var i = 0; i < errors.length; i++) errors[i].hidden = true;
  });

  document.addEventListener('click', function (e) {
    var button = e.target && e.target.closest ? e.target.closest('button[data-copy]') : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = source.textContent.trim();
    // The result goes to a status element beside the button: the button's own name stays what it shows.
    var status = document.getElementById(button.getAttribute('data-copy') + '-status');
    var done = function (ok) {
      if (!status) return;
      status.textContent = ok ? '已复制' : '复制失败，请手动选择复制';
      setTimeout(function () { status.textContent = ''; }, 3000);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(selectText(source)); });
    } else {
      done(selectText(source));
    }
  });

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { return document.execCommand('copy'); } catch (err) { return false; }
  }

  // The side menu: folded on a narrow screen; on a wide one as the user last left it.
  var navBox = document.getElementById('nav-box');
  if (navBox) {
    var narrow = function () { return window.matchMedia('(max-width: 63.99rem)').matches; };
    var saved = null;
    try { saved = window.localStorage.getItem('mdl.console.nav'); } catch (err) { saved = null; }
    if (narrow() || saved === 'closed') navBox.removeAttribute('open');
    navBox.addEventListener('toggle', function () {
      if (narrow()) return;
      try { window.localStorage.setItem('mdl.console.nav', navBox.open ? 'open' : 'closed'); } catch (err) { /* private mode */ }
    });
  }

  var invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
})();
`;
