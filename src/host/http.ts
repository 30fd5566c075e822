// The host's HTTP side (issue 14, item 6): a small live page, the same data as JSON, and
// Prometheus /metrics. Read-only, no state of its own.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Host } from './host.js';
import type { SeenTimes } from './lifecycle.js';
import { LIVE_PAGE } from './live-page.js';

// Through process.getBuiltinModule, not `import` (issue 15): on Node 26 an ESM import of
// node:http reads its lazy WebSocket getter, which loads undici and TLS for nothing.
const { createServer } = process.getBuiltinModule('node:http');

export interface NodeView extends SeenTimes {
  node: string;
  bdSeq?: string;
  counters: Record<string, number>;
  dedupDrops: number;
  confirmation?: { epoch: string; through: number; at: number; lagMs: number };
  devices: Array<SeenTimes & { device: string }>;
}

/** The times a node or device has, without the keys of those it lacks. */
const seen = (s: SeenTimes): SeenTimes => ({
  online: s.online,
  ...(s.lastBirth !== undefined ? { lastBirth: s.lastBirth } : {}),
  ...(s.lastData !== undefined ? { lastData: s.lastData } : {}),
  ...(s.lastDeath !== undefined ? { lastDeath: s.lastDeath } : {}),
});

export function nodesView(host: Host): NodeView[] {
  const out: NodeView[] = [];
  for (const [key, s] of host.lifecycle.nodes) {
    const conf = host.confirmations.get(key);
    out.push({
      node: key,
      ...seen(s),
      ...(s.bdSeq !== undefined ? { bdSeq: s.bdSeq } : {}),
      counters: { ...s.counters },
      dedupDrops: host.ledger.drops.get(key) ?? 0,
      ...(conf !== undefined ? { confirmation: conf } : {}),
      devices: [...s.devices].map(([device, d]) => ({ device, ...seen(d) })),
    });
  }
  return out;
}

const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function metricsText(host: Host): string {
  const st = host.ingest.stats;
  const lines: string[] = [];
  const counter = (name: string, help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
  };
  const gauge = (name: string, help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
  };
  counter('fieldgate_host_messages_total', 'Sparkplug messages received', st.messages);
  counter('fieldgate_host_samples_stored_total', 'samples committed to the history', st.stored);
  counter('fieldgate_host_commits_total', 'history transactions committed', st.commits);
  counter('fieldgate_host_commit_failures_total', 'history transactions that failed and were retried', st.commitFailures);
  counter('fieldgate_host_dedup_drops_total', 'messages dropped as duplicates by their fg dedup key', st.dedupDrops);
  counter('fieldgate_host_unkeyed_messages_total', 'messages without a dedup key, stored as they came', st.unkeyed);
  counter('fieldgate_host_malformed_total', 'messages on Sparkplug topics that did not decode', st.malformed);
  counter('fieldgate_host_rebirth_suppressed_total', 'rebirth requests held back by host.rebirthInterval', host.rebirths.suppressed);
  gauge('fieldgate_host_connected', '1 while connected to the central broker', host.session?.connected === true ? 1 : 0);
  const perNode: Array<[string, string, string, (v: NodeView) => number]> = [
    ['fieldgate_host_node_online', 'gauge', '1 while the edge node is online', (v) => (v.online ? 1 : 0)],
    ['fieldgate_host_node_rebirths_requested_total', 'counter', 'Rebirth NCMDs sent to the node', (v) => v.counters.rebirthsRequested ?? 0],
    ['fieldgate_host_node_seq_gaps_total', 'counter', 'Sparkplug seq gaps seen', (v) => v.counters.seqGaps ?? 0],
    ['fieldgate_host_node_dedup_drops_total', 'counter', 'duplicates dropped', (v) => v.dedupDrops],
    ['fieldgate_host_node_confirmed_through', 'gauge', 'highest gap-free outbox sequence confirmed', (v) => v.confirmation?.through ?? 0],
    ['fieldgate_host_node_confirmation_lag_seconds', 'gauge', 'first message of the last confirmed batch to its confirmation', (v) => (v.confirmation?.lagMs ?? 0) / 1000],
  ];
  const views = nodesView(host);
  for (const [name, type, help, f] of perNode) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const v of views) lines.push(`${name}{node="${esc(v.node)}"} ${f(v)}`);
  }
  return lines.join('\n') + '\n';
}

export class HostHttp {
  private server: Server | undefined;
  port: number | undefined;

  constructor(
    private readonly host: Host,
    private readonly address: string,
    private readonly listenPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metricsText(this.host));
      } else if (path === '/api/nodes') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: this.host.cfg.id, connected: this.host.session?.connected === true, stats: this.host.ingest.stats, nodes: nodesView(this.host) }));
      } else if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LIVE_PAGE);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, this.address, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server === undefined ? r() : this.server.close(() => r())));
    this.server?.closeAllConnections();
  }
}
