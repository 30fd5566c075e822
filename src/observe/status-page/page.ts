// The status page: one HTML document with its style and script inline, no framework. It lives
// in a TypeScript module so tsc ships it in dist/ with the rest (the .deb ships dist only).
// Every string that comes from the site (device and tag names, values, errors, client ids)
// reaches the page through textContent or setAttribute, never as markup.
// The script is written without template literals: this file's own backticks wrap it.

const STYLE = String.raw`
:root{font:14px/1.4 system-ui,sans-serif;color:#1b1f23;background:#f6f7f9}
body{margin:0 auto;max-width:1100px;padding:12px}
h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:18px 0 6px}
header{display:flex;justify-content:space-between;align-items:baseline;flex-wrap:wrap;gap:8px}
.muted{color:#6a737d}
table{border-collapse:collapse;width:100%;table-layout:fixed;background:#fff;margin-bottom:10px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #e1e4e8;font-variant-numeric:tabular-nums}
th{font-weight:600;background:#eef0f3}
td.value{text-align:right;font-family:ui-monospace,monospace}
.dev{background:#fff;border:1px solid #d1d5da;border-radius:4px;padding:6px 8px;margin-bottom:10px}
.dev h3{font-size:14px;margin:0 0 4px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600}
.online,.GOOD,.yes{background:#dcffe4;color:#116329}
.offline,.BAD,.no{background:#ffe3e3;color:#a40e26}
.starting,.stopped,.UNCERTAIN{background:#fff5b1;color:#735c0f}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0;background:#fff;padding:6px 8px;border:1px solid #d1d5da;border-radius:4px}
dt{color:#6a737d}dd{margin:0}
#link.up{color:#116329}#link.down{color:#a40e26}
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var state = null;
  var offset = 0;
  var root = document.getElementById('root');
  var link = document.getElementById('link');

  function h(tag, cls, children) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    (children || []).forEach(function (c) {
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return el;
  }
  function attr(el, name, value) { el.setAttribute(name, value); return el; }
  function serverNow() { return Date.now() + offset; }
  function dur(s) {
    if (s < 0) return '-';
    if (s < 10) return (Math.round(s * 10) / 10) + ' s';
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }
  function ago(t) { return t > 0 ? dur((serverNow() - t) / 1000) : 'never'; }
  function fmt(v) {
    if (v === null) return '-';
    if (typeof v === 'number') return String(Math.round(v * 1000) / 1000);
    return String(v);
  }
  function bytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }
  function badge(text, cls) { return h('span', 'badge ' + cls, [text]); }
  function row(cells, header) {
    return h('tr', '', cells.map(function (c) { return c instanceof Node ? h(header ? 'th' : 'td', '', [c]) : h(header ? 'th' : 'td', '', [String(c)]); }));
  }
  function pairs(list) {
    var dl = h('dl');
    list.forEach(function (p) { dl.appendChild(h('dt', '', [p[0]])); dl.appendChild(attr(h('dd', '', [p[1]]), 'data-field', p[2] || '')); });
    return dl;
  }

  function device(d) {
    var sec = attr(h('section', 'dev'), 'data-device', d.name);
    sec.appendChild(h('h3', '', [
      d.name, attr(badge(d.state, d.state), 'data-field', 'state'),
      h('span', 'muted', [d.driver + ', last poll ' + ago(d.lastPollAt) + ', ' + d.pollErrors + ' failed polls']),
    ]));
    if (d.lastError) sec.appendChild(attr(h('div', 'muted', ['last error: ' + d.lastError]), 'data-field', 'error'));
    var t = h('table');
    t.appendChild(row(['tag', 'value', 'unit', 'quality', 'age', 'why'], true));
    d.tags.forEach(function (tag) {
      var tr = attr(h('tr'), 'data-tag', d.name + '/' + tag.name);
      tr.appendChild(h('td', '', [tag.name]));
      tr.appendChild(h('td', 'value', [fmt(tag.value)]));
      tr.appendChild(h('td', 'muted', [tag.unit || '']));
      tr.appendChild(h('td', 'quality', [badge(tag.quality, tag.quality)]));
      tr.appendChild(h('td', 'age', [ago(tag.sourceTime)]));
      // Issue 20: a tag that is not GOOD says why, and what it last read when it was.
      var why = tag.reason || '';
      if (tag.lastGood) why += (why ? '; ' : '') + 'last good ' + fmt(tag.lastGood.value) + ' ' + ago(tag.lastGood.at);
      tr.appendChild(attr(h('td', 'muted', [why]), 'data-field', 'reason'));
      t.appendChild(tr);
    });
    sec.appendChild(t);
    return sec;
  }

  function upstream(u) {
    if (!u) return h('p', 'muted', ['no upstream configured']);
    var draining = u.backlog === 0 ? '-' : (u.etaSeconds < 0 ? 'not draining' : dur(u.etaSeconds));
    // Issue 17: the server list, the live one marked, time on each and why each was last left.
    var servers = (u.servers || []).map(function (s) {
      return attr(h('div', '', [badge(s.live ? 'live' : 'standby', s.live ? 'yes' : 'no'), ' ' + s.url + ' - ' + dur(Math.round(s.connectedSeconds)) + ' connected' +
        (s.lastLeft ? ', last left: ' + s.lastLeft.replace('_', ' ') : '')]), 'data-server', s.url);
    });
    var box = h('div');
    if (servers.length > 1) box.appendChild(attr(pairs([['servers', h('div', '', servers), 'servers'], ['switches', String(u.switches), 'switches']]), 'id', 'servers'));
    box.appendChild(attr(pairs([
      ['link', badge(u.connected ? 'connected' : 'disconnected', u.connected ? 'yes' : 'no'), 'connected'],
      ['Sparkplug', badge(u.born ? 'born (bdSeq ' + u.bdSeq + ')' : 'not born', u.born ? 'yes' : 'no'), 'born'],
      ['backlog', u.backlog + ' records, ' + bytes(u.backlogBytes) + (u.backlog > 0 ? ', oldest ' + dur(u.oldestAgeSeconds) : ''), 'backlog'],
      ['replay', u.replayRate + ' records/s', 'rate'],
      ['drain ETA', draining, 'eta'],
      ['dropped', u.dropped.budget + ' budget, ' + u.dropped.age + ' age, ' + u.dropped.rejected + ' rejected', 'dropped'],
    ]), 'id', 'upstream'));
    return box;
  }

  function broker(b) {
    if (!b) return h('p', 'muted', ['no local broker configured']);
    var box = h('div');
    box.appendChild(h('p', 'muted', [b.listeners.map(function (l) { return l.protocol + '://' + l.host + ':' + l.port; }).join(', ') +
      ' - ' + b.clients.length + ' clients, ' + b.retained + ' retained']));
    if (b.clients.length > 0) {
      var t = attr(h('table'), 'id', 'clients');
      t.appendChild(row(['client id', 'user', 'from', 'listener', 'MQTT'], true));
      b.clients.forEach(function (c) { t.appendChild(row([c.clientId, c.username || '-', c.remoteAddress, c.listener, c.protocolVersion === 5 ? '5' : '3.1.1'])); });
      box.appendChild(t);
    }
    return box;
  }

  function render() {
    if (!state) return;
    document.getElementById('site').textContent = state.site.group + ' / ' + state.site.node;
    document.getElementById('meta').textContent = 'fieldgate ' + state.site.version + ', up ' + ago(state.site.startedAt);
    var online = state.devices.filter(function (d) { return d.state === 'online'; }).length;
    root.replaceChildren(
      h('h2', '', ['Devices (' + online + '/' + state.devices.length + ' online)']),
      h('div', '', state.devices.map(device)),
      h('h2', '', ['Upstream']), upstream(state.upstream),
      h('h2', '', ['Local broker']), broker(state.broker)
    );
  }

  function apply(p) {
    offset = p.now - Date.now();
    if (p.devices) {
      var byName = {};
      p.devices.forEach(function (d) { byName[d.name] = d; });
      state.devices = state.devices.map(function (d) { return byName[d.name] || d; });
    }
    if ('upstream' in p) state.upstream = p.upstream;
    if ('broker' in p) state.broker = p.broker;
    state.now = p.now;
  }

  function connect() {
    var es = new EventSource('events');
    es.addEventListener('snapshot', function (e) {
      state = JSON.parse(e.data);
      offset = state.now - Date.now();
      link.textContent = 'live'; link.className = 'up';
      render();
    });
    es.addEventListener('patch', function (e) { if (state) { apply(JSON.parse(e.data)); render(); } });
    es.onerror = function () { link.textContent = 'disconnected, retrying'; link.className = 'down'; };
  }
  setInterval(render, 1000);
  connect();
})();
`;

// node:crypto through process.getBuiltinModule, not `import`: its ESM facade would read its
// webcrypto getters (issue 15, see src/broker/websocket.ts).
function sha256(text: string): string {
  return `'sha256-${process.getBuiltinModule('node:crypto').createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fieldgate status</title>
<style>${STYLE}</style>
</head>
<body>
<header><div><h1 id="site">fieldgate</h1><div id="meta" class="muted"></div></div><div id="link" class="down">connecting</div></header>
<noscript><p>This page needs JavaScript. The same data is at <a href="status.json">status.json</a>.</p></noscript>
<main id="root"></main>
<script>${SCRIPT}</script>
</body>
</html>
`;

let csp: string | undefined;

/**
 * Only the inline style and script above may run, and the page may talk only to its origin.
 * Hashed on the first page served, not at load: node:crypto (OpenSSL and ~25 of Node's modules)
 * costs ~2 MiB RSS, which a site whose status page nobody opens need not pay (issue 15).
 */
export function statusPageCsp(): string {
  csp ??= [
    "default-src 'none'",
    `style-src ${sha256(STYLE)}`,
    `script-src ${sha256(SCRIPT)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return csp;
}
