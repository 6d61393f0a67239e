import { StaticAssets } from '../static-assets.js';

/**
 * The citizen app's one script, an enhancement only (every page works without it): 状态更新 asks the
 * hospital and can take seconds, so on submit its button says 查询中…, is disabled against a second tap,
 * and a status line beside the record says so (aria-live), in view. The result is then shown above the
 * record it is about (the redirect's #item-N anchor), as without the script.
 */
export const MDR_JS = `(function () {
  'use strict';
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form || !form.classList || !form.classList.contains('refresh-form')) return;
    var button = form.querySelector('button[type=submit]');
    if (button) {
      if (button.getAttribute('aria-busy') === 'true') { e.preventDefault(); return; }
      button.setAttribute('aria-busy', 'true');
      button.textContent = '查询中…';
      // Disabled after the submission is under way, so the form still sends.
      setTimeout(function () { button.disabled = true; }, 0);
    }
    var status = form.parentNode && form.parentNode.parentNode ? form.parentNode.parentNode.querySelector('.refresh-status') : null;
    if (status) {
      status.hidden = false;
      status.textContent = '正在向医院查询缴费结果，请稍候…';
      status.scrollIntoView({ block: 'nearest' });
    }
  });
})();
`;

export const CITIZEN_ASSETS = new StaticAssets('/mdr/assets', [
  { name: 'mdr.js', type: 'text/javascript; charset=utf-8', load: () => MDR_JS },
]);
