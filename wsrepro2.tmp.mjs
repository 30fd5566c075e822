import WS from 'ws';
const orig = WS.prototype.send;
WS.prototype.send = function (data, opts, cb) { console.log('client ws.send', data.length, 'state', this.readyState, typeof opts, typeof cb); return orig.call(this, data, opts, cb); };
await import('./wsrepro.tmp.mjs');
