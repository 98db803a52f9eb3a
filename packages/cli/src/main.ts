/**
 * `sealstream`: encrypt files and streams client-side and move them to Exoscale SOS and
 * S3-compatible stores. Arguments are parsed with commander; every failure ends in one of the
 * documented exit codes (see `exit.ts` and the README).
 * @module
 */
import { Command, CommanderError } from 'commander';
import { cpCommand } from './commands/cp.ts';
import { keygen } from './commands/keygen.ts';
import { decryptCommand, encryptCommand } from './commands/local.ts';
import { lsCommand } from './commands/ls.ts';
import { catCommand, inspectCommand } from './commands/read.ts';
import { rekeyEntry } from './commands/rekey-prefix.ts';
import { describeError, EXIT, exitCodeOf, hintFor } from './exit.ts';
import { handleSignals, interruption } from './io.ts';
import { warnStalePartialsWith } from './pending.ts';
import { Reporter } from './report.ts';
import { drainStderr, drainStdout, watchStandardStreams } from './stdout.ts';
import { destroyClients } from './store.ts';

const VERSION = '0.1.0';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Options that pick keys to seal with or to open with. */
function keyOptions(cmd: Command, purpose: 'seal' | 'open'): Command {
  const verb = purpose === 'seal' ? 'encrypt to' : 'try';
  return cmd
    .option(
      '--key-file <file>',
      `${verb} the key(s) in FILE (one base64 or hex key per line); repeatable`,
      collect,
    )
    .option(
      '--key <key>',
      `${verb} KEY (visible in the process list: prefer --key-file); repeatable`,
      collect,
    )
    .option(
      '--passphrase',
      `${purpose === 'seal' ? 'encrypt to' : 'try'} a passphrase typed at a terminal prompt`,
    )
    .option('--passphrase-file <file>', `${verb} the passphrase on the first line of FILE`)
    .option('--work-factor <logN>', 'scrypt work factor (logN) of a new passphrase, 10 to 22 (default 18)')
    .option(
      '--max-work-factor <logN>',
      'highest passphrase work factor to open, 10 to 22 (default 20); to write above 20, confirm with the same value as --work-factor',
    );
}

/** SSE-C options. */
function sseCOptions(cmd: Command): Command {
  return cmd
    .option('--sse-c-file <file>', 'SSE-C: the store encrypts with the key in FILE')
    .option(
      '--sse-c <key>',
      'SSE-C with KEY given here, as mc takes it (visible in the process list: prefer --sse-c-file)',
    )
    .option(
      '--encrypt-key <map>',
      "SSE-C keys by prefix, mc style: 'ALIAS/bucket/prefix=KEY,...' (ALIAS is s3, or the zone of sos:// URLs; also from SEALSTREAM_ENCRYPT_KEY)",
    );
}

/** Store options. */
function storeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--endpoint <url>',
      'S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile)',
    )
    .option('--zone <zone>', 'Exoscale SOS zone, e.g. ch-gva-2 (endpoint https://sos-ZONE.exo.io)')
    .option('--ca <file>', 'extra CA certificate(s) to trust, PEM (default: AWS_CA_BUNDLE)')
    .option('--region <region>', 'signing region (default: the zone, AWS_REGION, the profile, us-east-1)')
    .option('--profile <name>', 'AWS profile for credentials and settings (default: AWS_PROFILE)');
}

/** Output options. */
function outputOptions(cmd: Command): Command {
  return cmd
    .option('-q, --quiet', 'no progress bar and no status lines (warnings and errors still shown)')
    .option('--json', 'print the result as one JSON object (never containing keys)');
}

/** Builds the command line program. `run` receives each command's work. */
export function program(
  run: (work: (reporter: Reporter) => Promise<void>, flags: Record<string, unknown>) => Promise<void>,
): Command {
  const root = new Command('sealstream')
    .description(
      'Encrypt files and streams client-side and move them to Exoscale SOS and S3-compatible stores.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    // set before the subcommands are added, which copy these settings: errors become exit code 2
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 other error, 2 usage, 3 key or credentials, 4 integrity (data failed
authentication or is not sealstream), 5 not found, 6 network or server, 7 output not written
(disk full, reader closed the pipe), 130 interrupted (SIGINT), 143 terminated (SIGTERM).`,
    );

  outputOptions(
    root
      .command('keygen')
      .description(
        'generate a 256-bit key (printed as base64, or written to a file with mode 0600); its key ID goes to stderr',
      )
      .option('-o, --out <file>', 'write the key to FILE (created with mode 0600) instead of stdout')
      .option('-f, --force', 'replace FILE if it exists'),
  ).action((options) => run((r) => keygen(options, r), options));

  outputOptions(
    keyOptions(
      root
        .command('encrypt')
        .description('encrypt a file or stdin to one or more keys and/or passphrases')
        .argument('[input]', 'file to encrypt; - or nothing: stdin')
        .option(
          '-o, --output <file>',
          'write to FILE (renamed into place once complete); - or nothing: stdout',
        )
        .option(
          '--identity <id>',
          'bind the data to an identity (e.g. bucket/key), checked by decrypt --identity',
        ),
      'seal',
    ),
  ).action((input, options) => run((r) => encryptCommand(input, options, r), options));

  outputOptions(
    keyOptions(
      root
        .command('decrypt')
        .description('decrypt a file or stdin with the keys and passphrases given; says which key opened it')
        .argument('[input]', 'file to decrypt; - or nothing: stdin')
        .option(
          '-o, --output <file>',
          'write to FILE, renamed into place only once fully authenticated; - or nothing: stdout',
        )
        .option('--identity <id>', 'require the data to be bound to this identity'),
      'open',
    ),
  ).action((input, options) => run((r) => decryptCommand(input, options, r), options));

  outputOptions(
    storeOptions(
      sseCOptions(
        keyOptions(
          root
            .command('cp')
            .description(
              'copy between local paths, - and s3://bucket/key or sos://zone/bucket/key; keys encrypt uploads and decrypt downloads',
            )
            .argument('<source>', 'local path, -, s3://bucket/key or sos://zone/bucket/key')
            .argument(
              '<destination>',
              'local path, -, s3://bucket/key or sos://zone/bucket/key (a trailing / keeps the source name)',
            )
            .option('-r, --recursive', 'copy a folder or every object under a prefix')
            .option(
              '--no-encryption',
              'upload without any encryption: the store gets the data as it is (needed when no key is given)',
            )
            .option('--parallel <n>', 'files transferred at once with --recursive (default 4)')
            .option(
              '--bind',
              'client-side: bind each object to its bucket/key on upload, require it on download',
            ),
          'seal',
        ),
      ),
    ),
  ).action((source, destination, options) => run((r) => cpCommand(source, destination, options, r), options));

  outputOptions(
    storeOptions(
      sseCOptions(
        keyOptions(
          root
            .command('cat')
            .description("write an object's or a file's plaintext to stdout, whole or a byte range")
            .argument('<object>', 's3://bucket/key, sos://zone/bucket/key, or a local file')
            .option('--range <range>', 'plaintext bytes only: bytes=A-B, bytes=A- or bytes=-N (B inclusive)')
            .option('--bind', 'client-side: require the object to be bound to its bucket/key')
            .option('--identity <id>', 'local files: require this identity'),
          'open',
        ),
      ),
    ),
  ).action((object, options) => run((r) => catCommand(object, options, r), options));

  outputOptions(
    storeOptions(
      sseCOptions(
        root
          .command('inspect')
          .description(
            'show format, sizes, key IDs and identity of a file or an object, without any key; for SSE-C objects what the store tells without the key',
          )
          .argument('<target>', 'local file, s3://bucket/key or sos://zone/bucket/key'),
      ),
    ),
  ).action((target, options) => run((r) => inspectCommand(target, options, r), options));

  outputOptions(
    storeOptions(
      sseCOptions(
        keyOptions(
          root
            .command('rekey')
            .description(
              'give a file or an object new keys: client-side only the header changes; SSE-C objects are re-encrypted by the store',
            )
            .argument('<target>', 'local file, s3://bucket/key or sos://zone/bucket/key')
            .option('--to-key-file <file>', 'new recipient: the key(s) in FILE; repeatable', collect)
            .option(
              '--to-key <key>',
              'new recipient KEY (visible in the process list: prefer --to-key-file); repeatable',
              collect,
            )
            .option('--to-passphrase', 'new recipient: a passphrase typed at a prompt')
            .option('--to-passphrase-file <file>', 'new recipient: the passphrase on the first line of FILE')
            .option('--add', 'keep the current recipients and add the new ones (default: replace them)')
            .option('--to-sse-c-file <file>', 'SSE-C: the new key, in FILE')
            .option('--to-sse-c <key>', 'SSE-C: the new KEY given here (visible in the process list)')
            .option(
              '-o, --output <file>',
              'local files: write the rekeyed file here instead of replacing the original',
            )
            .option('--bind', 'client-side: the object is bound to its bucket/key')
            .option(
              '-r, --recursive',
              'every object under the prefix s3://bucket/prefix; objects already on the new keys are skipped, so rerunning resumes',
            )
            .option('--parallel <n>', 'with -r: objects rekeyed at once (default 8)')
            .option(
              '--to-encrypt-key <map>',
              "with -r: new SSE-C keys by prefix, 'ALIAS/bucket/prefix=KEY,...'",
            ),
          'open',
        ),
      ),
    ),
  ).action((target, options) => run((r) => rekeyEntry(target, options, r), options));

  outputOptions(
    storeOptions(
      sseCOptions(
        root
          .command('ls')
          .description(
            'list the objects under a prefix with how each is protected (client-side key IDs and binding, SSE-C, plaintext) and totals per key ID',
          )
          .argument(
            '<prefix>',
            's3://bucket/prefix or sos://zone/bucket/prefix (every object whose key starts with it)',
          )
          .option('--parallel <n>', 'objects described at once, one small ranged GET each (default 16)'),
      ),
    ),
  ).action((prefix, options) => run((r) => lsCommand(prefix, options, r), options));

  return root;
}

/** Runs the command line; resolves to the exit code once every byte of output is written. */
export async function main(argv: string[]): Promise<number> {
  // the SDK warns that its releases after January 2027 need Node 22; this build's pinned SDK runs on 20
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  handleSignals();
  watchStandardStreams();
  let reporter = new Reporter({});
  let code: number = EXIT.OK;
  const root = program(async (work, flags) => {
    reporter = new Reporter(flags as { quiet?: boolean; json?: boolean });
    const current = reporter;
    warnStalePartialsWith((message) => current.warn(message));
    await work(reporter);
  });
  const fail = (err: unknown) => {
    const failure = interruption(err) ?? err;
    code = exitCodeOf(failure);
    reporter.error(describeError(failure), hintFor(failure));
  };
  try {
    await root.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) code = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    else fail(err);
  } finally {
    destroyClients();
  }
  // results and `--json` lines may still be queued for a slow reader
  try {
    await drainStdout();
  } catch (err) {
    if (code === EXIT.OK) fail(err);
  }
  await drainStderr();
  return code;
}

// exit now: a half-read stdin or an idle keep-alive socket must not hold the process open;
// main() resolves only once stdout and stderr hold nothing unwritten
process.exit(await main(process.argv));
