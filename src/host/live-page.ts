// The host's live page: one static document that polls /api/nodes every second. No framework,
// no build step; the JSON API is the contract.
export const LIVE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fieldgate host</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-top:1em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.on{color:#070;font-weight:600}.off{color:#a00;font-weight:600}td.dev{padding-left:2em;color:#555}
</style></head><body>
<h1>fieldgate host <span id="id"></span></h1>
<div id="summary"></div>
<table><thead><tr><th>node / device</th><th>state</th><th>last birth</th><th>last data</th><th>rebirths requested</th><th>seq gaps</th><th>dedup drops</th><th>confirmed through</th><th>confirmation lag</th></tr></thead>
<tbody id="rows"></tbody></table>
<script>
const t = (ms) => ms === undefined ? '' : new Date(ms).toISOString().replace('T',' ').slice(0,19);
const cell = (s, cls) => { const td = document.createElement('td'); td.textContent = s; if (cls) td.className = cls; return td; };
async function tick() {
  try {
    const r = await fetch('/api/nodes'); const d = await r.json();
    document.getElementById('id').textContent = d.id;
    document.getElementById('summary').textContent = (d.connected ? 'connected' : 'DISCONNECTED') + ' - ' + d.stats.messages + ' messages, ' + d.stats.stored + ' samples stored, ' + d.stats.dedupDrops + ' duplicates dropped';
    const rows = document.getElementById('rows'); rows.replaceChildren();
    for (const n of d.nodes) {
      const tr = document.createElement('tr');
      tr.append(cell(n.node), cell(n.online ? 'online' : 'offline', n.online ? 'on' : 'off'), cell(t(n.lastBirth)), cell(t(n.lastData)),
        cell(String(n.counters.rebirthsRequested)), cell(String(n.counters.seqGaps)), cell(String(n.dedupDrops)),
        cell(n.confirmation ? n.confirmation.epoch + ' / ' + n.confirmation.through : ''), cell(n.confirmation ? n.confirmation.lagMs + ' ms' : ''));
      rows.append(tr);
      for (const dv of n.devices) {
        const r2 = document.createElement('tr');
        r2.append(cell(dv.device, 'dev'), cell(dv.online ? 'online' : 'offline', dv.online ? 'on' : 'off'), cell(t(dv.lastBirth)), cell(t(dv.lastData)), cell(''), cell(''), cell(''), cell(''), cell(''));
        rows.append(r2);
      }
    }
  } catch (e) { document.getElementById('summary').textContent = 'host not reachable'; }
}
tick(); setInterval(tick, 1000);
</script></body></html>
`;
