/** Where the egress proxy's socket appears inside the sandbox, and the loopback port the bridge listens on there. */
export const SANDBOX_PROXY_SOCKET = '/run/sluice/egress.sock';
export const SANDBOX_PROXY_PORT = 3128;

/**
 * Runs inside the sandbox as `node -e <this> <port> <socket> <program> <args…>`: listens on 127.0.0.1:<port> of
 * the sandbox's own network namespace, carries each connection to the egress proxy's Unix socket, and runs the
 * program once it listens; exits as the program does. Plain CommonJS: no build step, nothing to import.
 */
export const BRIDGE_SCRIPT = String.raw`
'use strict';
const net = require('net');
const cp = require('child_process');
const os = require('os');
const [port, sock, program, ...args] = process.argv.slice(1);
const server = net.createServer((c) => {
  const u = net.connect(sock);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u);
  u.pipe(c);
});
server.on('error', (e) => { process.stderr.write('sluice sandbox: the network bridge failed: ' + e.message + '\n'); process.exit(125); });
server.listen(Number(port), '127.0.0.1', () => {
  const child = cp.spawn(program, args, { stdio: 'inherit' });
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => child.kill(s));
  child.on('error', (e) => { process.stderr.write('sluice sandbox: cannot start ' + program + ': ' + e.message + '\n'); process.exit(127); });
  child.on('exit', (code, signal) => process.exit(signal ? 128 + (os.constants.signals[signal] || 0) : code));
});
`;
