/* Candor host-page loader. It is served as embed-<hash>.js; put it on an intranet
 * page pinned by its hash (`candor embed-snippet` prints the tag):
 *
 *   <script src="https://candor.example/widget/embed-0123456789abcdef.js"
 *           integrity="sha384-…" crossorigin="anonymous" async
 *           data-org-key="BASE64URL" data-assertion="EYJ…"></script>
 *
 * or leave out data-assertion and call window.Candor.setAssertion(jws) once the
 * intranet has one. The widget takes the person's team from the assertion, never from
 * the page. It lives in a sandboxed iframe on the Candor origin: this page can neither
 * read what is typed there nor its storage. The assertion crosses by postMessage, to
 * the Candor origin only; messages back are accepted from that origin and that frame
 * only, and the widget sends one size, once.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var server = new URL(script.src).origin;
  var data = script.dataset;
  var assertion = data.assertion || null;
  var ready = false;

  var src = new URL('/widget/', server);
  src.searchParams.set('org', data.orgKey || '');
  src.searchParams.set('host', window.location.origin);

  var frame = document.createElement('iframe');
  frame.src = src.href;
  frame.title = 'Anonymous feedback to your leaders (Candor)';
  frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.setAttribute('allow', '');
  frame.style.width = '100%';
  frame.style.border = '0';
  frame.style.minHeight = '360px';

  function deliver() {
    if (ready && assertion && frame.contentWindow) {
      frame.contentWindow.postMessage({ type: 'candor:assertion', assertion: assertion }, server);
    }
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== server || event.source !== frame.contentWindow) return;
    var message = event.data || {};
    if (message.type === 'candor:ready') {
      ready = true;
      deliver();
    } else if (message.type === 'candor:resize' && isFinite(message.height) && message.height > 0) {
      frame.style.height = Math.min(Math.ceil(message.height), 4000) + 'px';
    }
  });

  var target = data.target ? document.querySelector(data.target) : null;
  if (target) target.appendChild(frame);
  else script.parentNode.insertBefore(frame, script.nextSibling);

  window.Candor = Object.freeze({
    setAssertion: function (jws) {
      assertion = String(jws);
      deliver();
    }
  });
})();
