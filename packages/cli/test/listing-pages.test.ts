/**
 * `ls`, `cp -r` and `rekey -r` against a store (a local HTTP server started here, `--allow-http`)
 * whose listing says it goes on but gives no way to the next page: no continuation token, or the
 * token it gave before. Taking the first page for the whole prefix would report a partial copy or
 * rotation as complete (exit 0); following the same token would never end. Both are exit 6.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, run, storeEnv, tempDir } from './helpers.ts';

/** What the listing of the fake store says after its first page. */
let next: 'no token' | 'same token' = 'no token';

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  res.setHeader('content-type', 'application/xml');
  if (url.searchParams.has('uploads')) {
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>fake-bucket</Bucket><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>',
    );
    return;
  }
  if (url.searchParams.get('list-type') === '2') {
    const token = next === 'same token' ? '<NextContinuationToken>again</NextContinuationToken>' : '';
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>fake-bucket</Name><Prefix>p/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>${token}</ListBucketResult>`,
    );
    return;
  }
  res.statusCode = 404;
  res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code></Error>');
}

const server = createServer(answer);
let endpoint: string;
let dir: string;
let keyFile: string;

beforeAll(async () => {
  buildCli();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  dir = tempDir();
  keyFile = join(dir, 'key');
  expect((await run(['keygen', '-q', '-o', keyFile])).code).toBe(0);
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const store = () => ['--endpoint', endpoint, '--allow-http'];
const env = () => storeEnv({ SEALSTREAM_NO_PROGRESS: '1' });

describe('a listing that says it goes on but cannot', { timeout: 60_000 }, () => {
  for (const kind of ['no token', 'same token'] as const) {
    it(`${kind}: ls, cp -r and rekey -r fail with exit 6 instead of taking part of the prefix for all of it`, async () => {
      next = kind;
      const runs = {
        ls: await run(['ls', ...store(), 's3://fake-bucket/p/'], { env: env() }),
        cp: await run(
          ['cp', '-r', '--key-file', keyFile, ...store(), 's3://fake-bucket/p/', join(dir, kind)],
          {
            env: env(),
          },
        ),
        rekey: await run(
          ['rekey', '-r', '--key-file', keyFile, '--to-key-file', keyFile, ...store(), 's3://fake-bucket/p/'],
          { env: env() },
        ),
      };
      for (const [command, r] of Object.entries(runs)) {
        expect(r.code, `${command}: ${r.stderr}`).toBe(6);
        expect(r.stderr).toContain(
          'listing s3://fake-bucket/p/: the store says the listing goes on but gives',
        );
      }
    });
  }
});
