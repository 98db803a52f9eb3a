/**
 * The store's refusals as typed errors: the decision table of store-errors.ts on errors built by
 * the AWS SDK's own exception classes (every row, the precedence of our other codes, answers left
 * alone), then every public operation against the real RGW: a missing key, a missing bucket, a
 * wrong secret, an unknown access key ID, an upload aborted under a putObject, an object deleted
 * while it is read. Each asserts the code, that the message names the bucket and key and holds no
 * secret, and that `cause` is the SDK's error.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, inject, it } from 'vitest';
import {
  abortIncompleteUpload,
  getObject,
  headObject,
  isSosError,
  listIncompleteUploads,
  openObjectSource,
  type PutObjectOptions,
  putObject,
  rekeyObject,
  SosError,
  type SosErrorCode,
  UploadNotAbortedError,
  UploadResumableError,
} from '../src/index.ts';
import { mapStoreError } from '../src/store-errors.ts';
import { bytes, collect, openUploads, scratchDir, testClient, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;

/** An SDK exception as the S3 client builds it from an answer. */
function answer(name: string, status: number | undefined, message = 'UnknownError'): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    message,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });
}

const target = { what: 'get photos/cat.jpg', bucket: 'photos', key: 'cat.jpg' };

describe('the decision table (SDK-shaped errors)', () => {
  it('maps each S3 error code of a refusal to its code, keeping the SDK error as cause', () => {
    const cases: [S3ServiceException, SosErrorCode][] = [
      [new NoSuchKey({ message: 'UnknownError', $metadata: { httpStatusCode: 404 } }), 'NOT_FOUND'],
      [answer('NoSuchVersion', 404), 'NOT_FOUND'],
      [new NoSuchBucket({ message: 'UnknownError', $metadata: { httpStatusCode: 404 } }), 'BUCKET_NOT_FOUND'],
      [answer('NoSuchUpload', 404), 'UPLOAD_NOT_FOUND'],
      [answer('AccessDenied', 403), 'ACCESS_DENIED'],
      [answer('AllAccessDisabled', 403), 'ACCESS_DENIED'],
      [answer('InvalidAccessKeyId', 403), 'BAD_CREDENTIALS'],
      [answer('SignatureDoesNotMatch', 403), 'BAD_CREDENTIALS'],
      [answer('ExpiredToken', 400), 'BAD_CREDENTIALS'],
      [answer('InvalidToken', 400), 'BAD_CREDENTIALS'],
      // HEAD answers have no body: the status is all there is
      [new NotFound({ message: 'UnknownError', $metadata: { httpStatusCode: 404 } }), 'NOT_FOUND'],
      [answer('Unknown', 403), 'ACCESS_DENIED'],
      [answer('Forbidden', 403), 'ACCESS_DENIED'],
    ];
    for (const [sdk, code] of cases) {
      const err = mapStoreError(sdk, target) as SosError;
      expect(err, sdk.name).toBeInstanceOf(SosError);
      expect(isSosError(err, code), `${sdk.name} -> ${err.code}`).toBe(true);
      expect(err.cause).toBe(sdk);
      expect(err.message.startsWith('get photos/cat.jpg: '), err.message).toBe(true);
      expect(err.message).toContain('photos');
      if (code !== 'BAD_CREDENTIALS') expect(err.message).toContain('cat.jpg');
      if (!['NotFound', 'Unknown', 'Forbidden'].includes(sdk.name))
        expect(err.message).toContain(`${sdk.$metadata.httpStatusCode} ${sdk.name}`);
    }
  });

  it('says which object, version or upload, and what to do', () => {
    const version = mapStoreError(answer('NoSuchKey', 404), { ...target, versionId: 'v42' }) as SosError;
    expect(version.message).toContain('cat.jpg in version v42');
    expect(version.message).toContain('version ID');
    const bucket = mapStoreError(answer('NoSuchBucket', 404), target) as SosError;
    expect(bucket.message).toContain('no bucket photos');
    expect(bucket.message).toContain('zone or endpoint');
    const upload = mapStoreError(answer('NoSuchUpload', 404), { ...target, uploadId: 'u-1' }) as SosError;
    expect(upload.message).toContain('multipart upload u-1 of photos/cat.jpg');
    const head = mapStoreError(answer('NotFound', 404), target) as SosError;
    expect(head.message).toContain('or there is no bucket photos');
    // a listing has no key: a bodiless 404 can only be the bucket
    const listing = mapStoreError(answer('NotFound', 404), { what: 'list', bucket: 'photos' }) as SosError;
    expect(listing.code).toBe('BUCKET_NOT_FOUND');
    for (const name of ['InvalidAccessKeyId', 'SignatureDoesNotMatch'])
      expect((mapStoreError(answer(name, 403), target) as SosError).message).toContain(
        'check the access key ID and secret key',
      );
    expect((mapStoreError(answer('Unknown', 403), target) as SosError).message).toContain(
      'or the access key ID or secret key is wrong',
    );
  });

  it('no credentials at all (the SDK provider chain, nothing sent) is BAD_CREDENTIALS', () => {
    const none = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const err = mapStoreError(none, target) as SosError;
    expect(err.code).toBe('BAD_CREDENTIALS');
    expect(err.message).toContain('no credentials were found');
    expect(err.cause).toBe(none);
  });

  it('never quotes the SDK error text (AWS puts the string to sign there; a proxy may put anything)', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    for (const name of ['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AccessDenied', 'Unknown']) {
      const err = mapStoreError(answer(name, 403, `signed with ${secret}`), target) as SosError;
      expect(err.message).not.toContain(secret);
      expect(err.message).not.toContain('signed with');
    }
  });

  it('leaves our own codes, 5xx, 412, 416 and unknown or bodied 4xx answers as they are', () => {
    const ours = [
      new SosError('SSE_C_KEY_MISMATCH', 'x'),
      new SosError('OBJECT_CHANGED', 'x'),
      new SosError('RANGE_NOT_SATISFIABLE', 'x'),
      new SosError('TIMEOUT', 'x'),
      new SosError('SERVER_FAULT', 'x'),
    ];
    for (const e of ours) expect(mapStoreError(e, target)).toBe(e);
    const alone = [
      answer('InternalError', 500),
      answer('SlowDown', 503),
      answer('PreconditionFailed', 412),
      answer('InvalidRange', 416),
      answer('InvalidArgument', 400),
      answer('EntityTooLarge', 400),
      // a 403 that says why, and the reason is not access: not guessed from the status
      answer('QuotaExceeded', 403),
      answer('RequestTimeTooSkewed', 403),
      // a bodiless answer of another status
      answer('Unknown', 400),
    ];
    for (const e of alone) expect(mapStoreError(e, target), e.name).toBe(e);
    // a name alone is no answer of the store
    const lookalike = Object.assign(new Error('x'), { name: 'AccessDenied' });
    expect(mapStoreError(lookalike, target)).toBe(lookalike);
    expect(mapStoreError(undefined, target)).toBe(undefined);
    expect(mapStoreError('text', target)).toBe('text');
  });
});

describe('against the RGW', () => {
  let client: S3Client;
  let bucket: string;
  useTestBucket((c, b) => {
    client = c;
    bucket = b;
  });
  const s3 = () => inject('s3');
  const dir = scratchDir('store-errors');
  const ck = generateKey();
  const clientSide = { clientSide: { keys: [ck] } };

  /**
   * The rejection of `promise`, checked to be a SosError of `code` naming `names`, without the
   * secret, whose cause is the SDK's error named `causeName`.
   */
  async function refusal(
    promise: Promise<unknown>,
    code: SosErrorCode,
    names: string[],
    causeName?: string,
  ): Promise<SosError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the call succeeded').toBeDefined();
    expect(isSosError(err), `not a SosError: ${String(err)}`).toBe(true);
    const e = err as SosError;
    expect(e.code, e.message).toBe(code);
    for (const name of names) expect(e.message).toContain(name);
    expect(e.message).not.toContain(s3().secretAccessKey);
    if (causeName !== undefined) expect(sdkCause(e).name).toBe(causeName);
    return e;
  }

  /** The SDK error at the end of the cause chain, with its answer's status. */
  function sdkCause(err: SosError): { name: string; $metadata: { httpStatusCode?: number } } {
    const cause = err.cause as { name: string; $metadata: { httpStatusCode?: number } };
    expect(cause).toBeInstanceOf(S3ServiceException);
    return cause;
  }

  it('a missing key: NOT_FOUND from getObject (plain and client-side), headObject, openObjectSource, rekeyObject', async () => {
    const key = 'missing/no-such-object.bin';
    const names = [bucket, key];
    const get = await refusal(
      getObject({ client, bucket, key, encryption: 'none' }),
      'NOT_FOUND',
      names,
      'NoSuchKey',
    );
    expect(sdkCause(get).$metadata.httpStatusCode).toBe(404);
    expect(get.message).toContain(`get ${bucket}/${key}`);
    await refusal(
      getObject({ client, bucket, key, encryption: clientSide }),
      'NOT_FOUND',
      names,
      'NoSuchKey',
    );
    // a HEAD answer has no body: the SDK names it by its status
    await refusal(headObject({ client, bucket, key, encryption: 'none' }), 'NOT_FOUND', names, 'NotFound');
    await refusal(
      openObjectSource({ client, bucket, key, encryption: 'none' }),
      'NOT_FOUND',
      names,
      'NoSuchKey',
    );
    const rekey = await refusal(
      rekeyObject({
        client,
        bucket,
        key,
        encryption: clientSide,
        newEncryption: { clientSide: { keys: [generateKey()] } },
      }),
      'NOT_FOUND',
      names,
    );
    expect(sdkCause(rekey).$metadata.httpStatusCode).toBe(404);
  });

  it('a missing bucket: BUCKET_NOT_FOUND from getObject, putObject (single, multipart, resumable), the incomplete-upload calls', async () => {
    const missing = `${bucket}-missing`;
    const key = 'k.bin';
    const names = [missing, key];
    const get = await refusal(
      getObject({ client, bucket: missing, key, encryption: 'none' }),
      'BUCKET_NOT_FOUND',
      names,
      'NoSuchBucket',
    );
    expect(get.message).toContain('zone or endpoint');
    await refusal(
      putObject({ client, bucket: missing, key, body: bytes(100), encryption: 'none' }),
      'BUCKET_NOT_FOUND',
      names,
      'NoSuchBucket',
    );
    await refusal(
      putObject({
        client,
        bucket: missing,
        key,
        body: bytes(6 * MiB),
        encryption: clientSide,
        partSize: 5 * MiB,
      }),
      'BUCKET_NOT_FOUND',
      names,
      'NoSuchBucket',
    );
    const file = join(dir, 'file.bin');
    writeFileSync(file, bytes(6 * MiB));
    await refusal(
      putObject({
        client,
        bucket: missing,
        key,
        body: file,
        encryption: 'none',
        partSize: 5 * MiB,
        resume: { journal: join(dir, 'file.journal') },
      }),
      'BUCKET_NOT_FOUND',
      names,
      'NoSuchBucket',
    );
    // nothing was created, so the journal written before the Create is gone too
    expect(existsSync(join(dir, 'file.journal'))).toBe(false);
    await refusal(
      listIncompleteUploads({ client, bucket: missing }),
      'BUCKET_NOT_FOUND',
      [missing],
      'NoSuchBucket',
    );
    await refusal(
      abortIncompleteUpload({ client, bucket: missing, key, uploadId: '2~x' }),
      'BUCKET_NOT_FOUND',
      names,
      'NoSuchBucket',
    );
  });

  it('a wrong secret key: BAD_CREDENTIALS (SignatureDoesNotMatch) naming neither secret; a HEAD says ACCESS_DENIED with both causes', async () => {
    const wrongSecret = 'not-the-secret-but-still-a-secret-0123456789';
    const wrong = testClient({
      credentials: { accessKeyId: s3().accessKeyId, secretAccessKey: wrongSecret },
    });
    await putObject({ client, bucket, key: 'creds/object', body: bytes(100), encryption: 'none' });
    const key = 'creds/object';
    const calls: [string, () => Promise<unknown>][] = [
      ['getObject', () => getObject({ client: wrong, bucket, key, encryption: 'none' })],
      [
        'putObject',
        () => putObject({ client: wrong, bucket, key: 'creds/new', body: bytes(100), encryption: 'none' }),
      ],
      ['openObjectSource', () => openObjectSource({ client: wrong, bucket, key, encryption: 'none' })],
    ];
    for (const [what, call] of calls) {
      const err = await refusal(call(), 'BAD_CREDENTIALS', [bucket]);
      expect(sdkCause(err).name, what).toBe('SignatureDoesNotMatch');
      expect(err.message).toContain('check the access key ID and secret key');
      expect(err.message).not.toContain(wrongSecret);
      expect(String(err.stack)).not.toContain(wrongSecret);
    }
    const list = await refusal(listIncompleteUploads({ client: wrong, bucket }), 'BAD_CREDENTIALS', [bucket]);
    expect(list.message).not.toContain(wrongSecret);
    const head = await refusal(
      headObject({ client: wrong, bucket, key, encryption: 'none' }),
      'ACCESS_DENIED',
      [bucket, key],
    );
    expect(sdkCause(head).$metadata.httpStatusCode).toBe(403);
    expect(head.message).toContain('access key ID or secret key is wrong');
    expect(head.message).not.toContain(wrongSecret);
  });

  it("resuming an upload with a wrong secret: BAD_CREDENTIALS from the journal's first request, the upload kept", async () => {
    const key = 'resume/wrong-secret.bin';
    const file = join(dir, 'resume.bin');
    writeFileSync(file, bytes(12 * MiB));
    const journal = join(dir, 'resume.journal');
    const put = (c: S3Client, extra: Partial<PutObjectOptions> = {}) =>
      putObject({
        client: c,
        bucket,
        key,
        body: file,
        encryption: 'none',
        partSize: 5 * MiB,
        resume: { journal },
        ...extra,
      });
    const controller = new AbortController();
    const first = await put(client, {
      queueSize: 1,
      signal: controller.signal,
      onProgress: (p) => p.loaded >= 5 * MiB && controller.abort(),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(first).toBeInstanceOf(UploadResumableError);
    const wrongSecret = 'not-the-secret-resume-0123456789';
    const wrong = testClient({
      credentials: { accessKeyId: s3().accessKeyId, secretAccessKey: wrongSecret },
    });
    const err = await refusal(put(wrong), 'BAD_CREDENTIALS', [bucket, key], 'SignatureDoesNotMatch');
    expect(err.message).not.toContain(wrongSecret);
    // nothing was given up: the right credentials continue it
    const done = await put(client);
    expect(done.resumed?.partsSkipped).toBe(1);
    expect(await openUploads(client, bucket)).toBe(0);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  });

  it('an unknown access key ID: BAD_CREDENTIALS (InvalidAccessKeyId)', async () => {
    const stranger = testClient({
      credentials: { accessKeyId: 'NOSUCHKEYID000000000', secretAccessKey: 'whatever-secret' },
    });
    const key = 'creds/object';
    const get = await refusal(
      getObject({ client: stranger, bucket, key, encryption: 'none' }),
      'BAD_CREDENTIALS',
      [bucket, key],
      'InvalidAccessKeyId',
    );
    expect(get.message).toContain('does not know the access key ID');
    expect(get.message).not.toContain('whatever-secret');
    await refusal(
      abortIncompleteUpload({ client: stranger, bucket, key, uploadId: '2~x' }),
      'BAD_CREDENTIALS',
      [bucket, key],
      'InvalidAccessKeyId',
    );
  });

  it('a multipart upload aborted under putObject: UPLOAD_NOT_FOUND naming it, and nothing left', async () => {
    const key = 'aborted-under/x.bin';
    let uploadId: string | undefined;
    const racing = testClient();
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number; UploadId?: string };
        // another party (a cleanup, a lifecycle rule) aborts the upload before part 2
        if (context.commandName === 'UploadPartCommand' && input.PartNumber === 2) {
          uploadId = input.UploadId;
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'abortUnderneath' },
    );
    const err = await refusal(
      putObject({
        client: racing,
        bucket,
        key,
        body: bytes(11 * MiB),
        encryption: 'none',
        partSize: 5 * MiB,
        queueSize: 1,
      }),
      'UPLOAD_NOT_FOUND',
      [bucket, key],
      'NoSuchUpload',
    );
    expect(uploadId).toBeDefined();
    expect(err.message).toContain(uploadId!);
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it('a failed upload whose abort is refused too: UPLOAD_NOT_ABORTED, both refusals typed', async () => {
    const key = 'refused-abort/x.bin';
    // the store's answers, injected where RGW cannot be made to refuse only these two requests
    const refusing = testClient();
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number };
        if (context.commandName === 'UploadPartCommand' && input.PartNumber === 2)
          throw answer('ExpiredToken', 400);
        if (context.commandName === 'AbortMultipartUploadCommand') throw answer('AccessDenied', 403);
        return next(args);
      },
      { step: 'initialize', name: 'refuse' },
    );
    const err = await refusal(
      putObject({
        client: refusing,
        bucket,
        key,
        body: bytes(11 * MiB),
        encryption: 'none',
        partSize: 5 * MiB,
        queueSize: 1,
      }),
      'UPLOAD_NOT_ABORTED',
      [bucket, key],
    );
    expect(err).toBeInstanceOf(UploadNotAbortedError);
    const { uploadId, abortError } = err as UploadNotAbortedError;
    expect(isSosError(err.cause, 'BAD_CREDENTIALS')).toBe(true);
    expect(isSosError(abortError, 'ACCESS_DENIED')).toBe(true);
    expect(err.message).toContain('BAD_CREDENTIALS');
    expect(err.message).toContain('ACCESS_DENIED');
    expect(await abortIncompleteUpload({ client, bucket, key, uploadId })).toBe(true);
  });

  it('an object deleted while it is read: the next ranged GET fails with a code, not a raw SDK error', async () => {
    const key = 'deleted-while-read.bin';
    await putObject({ client, bucket, key, body: bytes(3 * MiB), encryption: clientSide });
    // the first GET reads the header; the rest of the body is asked for when the stream is read
    const got = await getObject({ client, bucket, key, encryption: clientSide });
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const err = await collect(got.body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSosError(err), String(err)).toBe(true);
    // RGW answers the pinned GET (If-Match) of a deleted object 404; a store answering 412 gives OBJECT_CHANGED
    // RGW answers the pinned GET (If-Match) of a deleted object 404 NoSuchKey (a store answering 412
    // would give OBJECT_CHANGED, as for a replaced object)
    expect((err as SosError).code).toBe('NOT_FOUND');
    expect(sdkCause(err as SosError).name).toBe('NoSuchKey');
    expect((err as SosError).message).toContain(
      `get ${bucket}/${key} (the object was there when the read began)`,
    );
  });
});
