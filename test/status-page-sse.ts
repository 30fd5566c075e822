// A minimal server-sent events reader for the status page tests: real HTTP, frames parsed as
// the HTML spec's EventSource would (event:, data:, comment lines), nothing else.
import http from 'node:http';

export interface SseFrame {
  event: string;
  data: string;
  /** Comment lines (`: keepalive`). */
  comments: string[];
  at: number;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  frames: SseFrame[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function parseFrames(text: string): { frames: Omit<SseFrame, 'at'>[]; rest: string } {
  const frames: Omit<SseFrame, 'at'>[] = [];
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    const f = { event: 'message', data: '', comments: [] as string[] };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) f.comments.push(line.slice(1).trim());
      else if (line.startsWith('event:')) f.event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    f.data = data.join('\n');
    frames.push(f);
  }
  return { frames, rest };
}

export function openSse(url: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const frames: SseFrame[] = [];
      let buf = '';
      const ended = new Promise<void>((r) => {
        res.on('end', () => r());
        res.on('close', () => r());
      });
      res.setEncoding('utf8').on('data', (chunk: string) => {
        const parsed = parseFrames(buf + chunk);
        buf = parsed.rest;
        for (const f of parsed.frames) frames.push({ ...f, at: Date.now() });
      });
      res.on('error', () => undefined);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, frames, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}
