// Runs inside a fresh network namespace (`unshare -n`): brings loopback up, then forwards each 127.0.0.1:<port>
// of the namespace to the unix socket <dir>/<port>.sock, served by the test process outside. Path-bound unix sockets
// cross network namespaces; nothing else can leave, because the namespace has no interface but lo.
import { execFileSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const [dir, ...ports] = process.argv.slice(2);
execFileSync('ip', ['link', 'set', 'lo', 'up']);
let listening = 0;
for (const port of ports) {
  const server = createServer((inside) => {
    const outside = connect(join(dir, `${port}.sock`));
    inside.pipe(outside).pipe(inside);
    inside.on('error', () => outside.destroy());
    outside.on('error', () => inside.destroy());
  });
  server.listen(Number(port), '127.0.0.1', () => {
    if (++listening === ports.length) process.stdout.write('ready\n');
  });
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
