/**
 * Passphrase prompt on the controlling terminal (`/dev/tty`), never echoed. Reading the terminal
 * rather than stdin keeps stdin free for data: `tar c dir | sealstream encrypt --passphrase`.
 * @module
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ReadStream } from 'node:tty';
import { CliError, EXIT, usage } from './exit.ts';

/**
 * Asks for a passphrase on the terminal.
 * @param question - The prompt, e.g. `passphrase: `.
 * @throws {CliError} usage error when there is no terminal; interrupted on Ctrl-C.
 */
export async function promptHidden(question: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw usage(
      '--passphrase needs a terminal to prompt on, and there is none',
      'use --passphrase-file FILE (a file holding the passphrase on its first line)',
    );
  }
  const input = new ReadStream(fd);
  input.setRawMode(true);
  writeSync(fd, question);
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = '';
      // a character of several bytes may arrive split over two reads (a long paste): decoding each
      // read alone would turn it into U+FFFD, a passphrase other than the one typed
      const decoder = new StringDecoder('utf8');
      input.on('data', (data: Buffer) => {
        for (const ch of decoder.write(data)) {
          if (ch === '\r' || ch === '\n') return resolve(text);
          if (ch === '\u0003')
            return reject(new CliError(EXIT.INTERRUPTED, 'interrupted at the passphrase prompt'));
          if (ch === '\u0004' && text === '') return reject(usage('no passphrase entered'));
          // one character, not one UTF-16 unit: half an emoji left behind is no character at all
          if (ch === '\u007f' || ch === '\b') text = Array.from(text).slice(0, -1).join('');
          else if (ch >= ' ') text += ch;
        }
      });
      input.on('error', reject);
    });
  } finally {
    input.setRawMode(false);
    writeSync(fd, '\n');
    input.destroy();
    try {
      closeSync(fd);
    } catch {
      // already closed with the stream
    }
  }
}
