// Loopback ports for the benches' peers (issue 16: one copy instead of one per bench).
import net from 'node:net';

/** A port the OS just handed out and released. */
export async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Resolves once something accepts a connection on the port: `tries` attempts `everyMs` apart. */
export async function waitPort(port, { tries = 250, everyMs = 20, error = `nothing listens on ${port}` } = {}) {
  for (let i = 0; i < tries; i++) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(error);
}
