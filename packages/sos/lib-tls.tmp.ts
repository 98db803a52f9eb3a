import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createServer } from 'node:tls';
import { createSosClient, putObject } from '@sealstream/sos';

const t0 = performance.now();
const at = () => ((performance.now() - t0) / 1000).toFixed(1) + 's';
const orig = Agent.prototype.createConnection;
Agent.prototype.createConnection = function (...args: any[]) {
  const s = orig.apply(this, args as any);
  console.log(at(), 'client createConnection');
  s.on('connect', () => console.log(at(), 'client tcp connect'));
  s.on('secureConnect', () => console.log(at(), 'client secureConnect'));
  s.on('timeout', () => console.log(at(), 'client socket timeout event'));
  s.on('close', () => console.log(at(), 'client socket close'));
  return s;
} as any;
const srv = createServer(
  { key: readFileSync('/tmp/x6net/tkey.pem'), cert: readFileSync('/tmp/x6net/tcert.pem') },
  (s) => {
    console.log(at(), 'server secure');
    s.on('data', (d) => console.log(at(), 'server got', d.length));
  },
);
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
const port = (srv.address() as any).port;
const timeouts = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
const client = createSosClient({
  endpoint: `https://127.0.0.1:${port}`,
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  ca: '/tmp/x6net/tcert.pem',
  ...(timeouts ? { timeouts } : {}),
  clientConfig: { maxAttempts: 3 },
});
const size = Number(process.argv[3] ?? 1000);
try {
  await putObject({
    client,
    bucket: 'b',
    key: 'k',
    body: new Uint8Array(size),
    encryption: 'none',
    ...(size > 5e6 ? { partSize: 5 * 1024 * 1024 } : {}),
  });
} catch (e: any) {
  console.log(
    at(),
    'ERROR',
    e.code,
    e.name,
    e.message,
    '| cause:',
    e.cause?.name,
    e.cause?.message,
    e.cause?.$metadata,
  );
}
process.exit(0);
