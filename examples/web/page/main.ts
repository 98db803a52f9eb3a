/**
 * The web example's page: seals a file in the browser (key or passphrase), uploads it through
 * presigned part URLs with a progress bar, lists the bucket with each object's key IDs read from
 * its header (one small ranged GET), downloads and decrypts in the page, previews a byte range.
 */
import { formatKey, generateKey, isSealstreamError, keyId, parseKey, type Recipient } from '@sealstream/core';
import { inspectSealed, openSealed, PresignedSource, uploadSealed } from '@sealstream/sos/presigned';
import { ApiError, apiPresigner, listObjects, objectUrl } from './api-client.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fileInput = $<HTMLInputElement>('file');
const keyInput = $<HTMLInputElement>('key');
const passphraseInput = $<HTMLInputElement>('passphrase');
const progress = $<HTMLProgressElement>('progress');
const status = $<HTMLParagraphElement>('status');
const startButton = $<HTMLButtonElement>('start');
const cancelButton = $<HTMLButtonElement>('cancel');
const rows = $<HTMLTableSectionElement>('object-rows');
const preview = $<HTMLPreElement>('preview');
let bucket = '';
let running: AbortController | undefined;

const mode = () => (document.querySelector('input[name=mode]:checked') as HTMLInputElement).value;
const mib = (n: number) =>
  n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;

function say(text: string, error = false) {
  status.textContent = text;
  status.classList.toggle('error', error);
}

function explain(err: unknown): string {
  if (isSealstreamError(err) || err instanceof ApiError) return `${err.code}: ${err.message}`;
  return String((err as Error)?.message ?? err);
}

/** What the user chose to seal with, or to open with. */
function secret(): Recipient {
  if (mode() === 'passphrase') {
    if (!passphraseInput.value) throw new Error('enter a passphrase');
    return { passphrase: passphraseInput.value };
  }
  return { key: parseKey(keyInput.value) };
}

function showKeyId() {
  try {
    $('key-id').textContent = keyId(parseKey(keyInput.value));
  } catch {
    $('key-id').textContent = '-';
  }
}

async function upload() {
  const file = fileInput.files?.[0];
  if (!file) return say('Pick a file first.', true);
  let recipient: Recipient;
  try {
    recipient = secret();
  } catch (err) {
    return say(explain(err), true);
  }
  const key = file.name;
  running = new AbortController();
  startButton.disabled = true;
  cancelButton.disabled = false;
  progress.value = 0;
  say(`Sealing ${file.name}…`);
  try {
    const result = await uploadSealed(file, {
      encryption: { recipients: [recipient], identity: `${bucket}/${key}` },
      presigner: apiPresigner(key),
      signal: running.signal,
      name: key,
      onProgress: (p) => {
        const total = p.sealedTotal ?? p.plaintextTotal ?? 1;
        progress.value = p.uploadedBytes / total;
        say(
          `Sealed ${mib(p.plaintextBytes)} of ${mib(file.size)}, uploaded ${mib(p.uploadedBytes)} (${p.partsUploaded} parts)`,
        );
      },
    });
    progress.value = 1;
    const uploaded = `Uploaded ${key}: ${mib(result.plaintextSize)} sealed into ${mib(result.size)}, ${result.parts} part(s).`;
    say(uploaded);
    // the object is stored whatever the listing does next: a failed refresh must not say otherwise
    await refresh().catch((err) => say(`${uploaded} The list could not be refreshed: ${explain(err)}`, true));
  } catch (err) {
    say(`Upload failed: ${explain(err)}`, true);
  } finally {
    running = undefined;
    startButton.disabled = false;
    cancelButton.disabled = true;
  }
}

/** Refreshes the list at the user's request, saying so when it cannot (never a silent failure). */
function refreshAsked() {
  refresh().then(
    () => say(`Listed ${rows.children.length} object(s).`),
    (err) => say(`Could not list the bucket: ${explain(err)}`, true),
  );
}

/** Lists the bucket; each object's header is read with one small ranged GET to show its recipients. */
async function refresh() {
  const list = await listObjects();
  bucket = list.bucket;
  $('bucket').textContent = bucket;
  rows.replaceChildren();
  for (const o of list.objects) {
    const tr = document.createElement('tr');
    tr.dataset.key = o.key;
    const cells = [o.key, mib(o.size), '…', '…'].map((text) => {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
      return td;
    });
    const actions = document.createElement('td');
    for (const [label, action] of [
      ['Download', download],
      ['Preview', showRange],
    ] as const) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', () => void action(o.key));
      actions.append(b);
    }
    tr.append(actions);
    rows.append(tr);
    void describe(o.key, cells[2]!, cells[3]!);
  }
}

async function describe(key: string, sizeCell: HTMLElement, recipientsCell: HTMLElement) {
  try {
    const source = await PresignedSource.open(() => objectUrl(key), { name: key });
    // core's reader reads the header: from the first GET, or one more for a long recipient list
    const facts = await inspectSealed(source);
    if (facts === undefined) {
      sizeCell.textContent = mib(source.size);
      recipientsCell.textContent = 'not a sealstream object';
      return;
    }
    sizeCell.textContent = mib(facts.size);
    recipientsCell.replaceChildren(
      ...facts.header.recipients.map((r) => {
        const code = document.createElement('code');
        code.textContent =
          r.type === 'key'
            ? `key ${r.keyId}`
            : r.type === 'passphrase'
              ? `passphrase (work ${r.workFactor})`
              : r.type === 'unknown'
                ? r.name
                : `${r.type} public key ${r.keyId}`;
        return code;
      }),
    );
  } catch (err) {
    sizeCell.textContent = '-';
    recipientsCell.textContent = isSealstreamError(err) ? err.code : 'not readable';
  }
}

async function open(key: string) {
  const source = await PresignedSource.open(() => objectUrl(key), { name: key });
  return openSealed(source, { keys: [secret()], identity: `${bucket}/${key}` });
}

async function download(key: string) {
  say(`Downloading and decrypting ${key}…`);
  try {
    const object = await open(key);
    const parts: BlobPart[] = [];
    let done = 0;
    for await (const part of object.stream() as unknown as AsyncIterable<Uint8Array>) {
      parts.push(part.slice() as Uint8Array<ArrayBuffer>);
      done += part.length;
      progress.value = done / Math.max(1, object.size);
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob(parts));
    link.download = key.split('/').pop() ?? 'download';
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    say(`Decrypted ${key}: ${mib(done)}, every chunk authenticated.`);
  } catch (err) {
    say(`Download failed: ${explain(err)}`, true);
  }
}

async function showRange(key: string) {
  const start = Number($<HTMLInputElement>('range-start').value);
  const end = Number($<HTMLInputElement>('range-end').value);
  try {
    const object = await open(key);
    const bytes = await object.read({ start, end: Math.min(end, object.size) });
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    preview.textContent = `${key} [${start}, ${start + bytes.length}) of ${object.size} bytes:\n${text}`;
    preview.hidden = false;
    say(`Previewed ${bytes.length} bytes of ${key}: only their chunks were fetched.`);
  } catch (err) {
    say(`Preview failed: ${explain(err)}`, true);
  }
}

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) {
  radio.addEventListener('change', () => {
    $('key-row').hidden = mode() !== 'key';
    $('passphrase-row').hidden = mode() !== 'passphrase';
  });
}
$('generate').addEventListener('click', () => {
  keyInput.value = formatKey(generateKey());
  showKeyId();
});
keyInput.addEventListener('input', showKeyId);
startButton.addEventListener('click', () => void upload());
cancelButton.addEventListener('click', () => running?.abort());
$('refresh').addEventListener('click', refreshAsked);
refresh().then(
  () => {
    document.body.dataset.ready = 'true';
  },
  (err) => say(`Could not list the bucket: ${explain(err)}`, true),
);
