/**
 * `sealstream`: encrypt files and streams client-side and move them to Exoscale SOS and
 * S3-compatible stores. Arguments are parsed with commander; every failure ends in one of the
 * documented exit codes (see `exit.ts` and the README).
 * @module
 */
import { Command, CommanderError, Option } from 'commander';
import { describeError, EXIT, exitCodeOf } from './exit.ts';
import { failureJson, hintOf, usageJson } from './failure.ts';
import { failureWithOutcome, handleSignals, interruption } from './io.ts';
import { warnStalePartialsWith } from './pending.ts';
import { Reporter } from './report.ts';
import { drainStderr, drainStdout, watchStandardStreams } from './stdout.ts';

const VERSION = '0.1.0';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Options that pick keys to seal with or to open with. */
function keyOptions(
  cmd: Command,
  purpose: 'seal' | 'open',
  shorts: { recipient: boolean } = { recipient: false },
): Command {
  const verb = purpose === 'seal' ? 'encrypt to' : 'try';
  cmd
    .option(
      '--key-file <file>',
      `${verb} the key(s) in FILE: raw keys (base64 or hex, one a line, or the 32 bytes as they are), age private keys (AGE-SECRET-KEY-…)${purpose === 'seal' ? ', age public keys (age1…)' : ''}; repeatable`,
      collect,
    )
    .option(
      '-i, --private-key-file <file>',
      `${verb} the age private key(s) in FILE (age -i, e.g. from age-keygen or keygen --type x25519|pq); repeatable. (--identity is the object binding here, not a key)`,
      collect,
    );
  if (purpose === 'seal') {
    cmd
      .option(
        shorts.recipient ? '-r, --recipient <key>' : '--recipient <key>',
        'encrypt to the age public key KEY (age1… or age1pq1…); repeatable',
        collect,
      )
      .option(
        shorts.recipient ? '-R, --recipients-file <file>' : '--recipients-file <file>',
        'encrypt to the age public keys in FILE (age -R format); repeatable',
        collect,
      );
  }
  cmd
    .option(
      '--key <key>',
      `${verb} KEY (visible in the process list: prefer --key-file or SEALSTREAM_KEY); repeatable`,
      collect,
    )
    .option('--passphrase', `${verb} a passphrase typed at a terminal prompt`)
    .option('--passphrase-file <file>', `${verb} the passphrase on the first line of FILE`);
  if (purpose === 'seal') {
    cmd.option(
      '--work-factor <logN>',
      'scrypt work factor (logN) of a new passphrase, 10 to 22 (default 18)',
    );
  }
  return cmd.option(
    '--max-work-factor <logN>',
    purpose === 'seal'
      ? 'highest passphrase work factor to open, 10 to 22 (default 20); to write above 20, confirm with the same value as --work-factor'
      : 'highest passphrase work factor to open, 10 to 22 (default 20): scrypt above it is refused before any work',
  );
}

/** SSE-C options. */
function sseCOptions(cmd: Command): Command {
  return cmd
    .option('--sse-c-file <file>', 'SSE-C: the store encrypts with the key in FILE (text, or the 32 bytes)')
    .option(
      '--sse-c [AES256|key]',
      'SSE-C. As in aws-cli, AES256 (or no value) names the algorithm and --sse-c-key gives the key; any other value is the key itself, as mc took it (visible in the process list)',
    )
    .option(
      '--sse-c-key <key>',
      "SSE-C key, as aws-cli takes it: fileb://FILE (the key's 32 bytes), file://FILE (a key file), or the key (32 characters, base64 or hex; visible in the process list)",
    )
    .option(
      '--enc-c <entry>',
      "SSE-C keys by prefix, as mc takes them: 'ALIAS/bucket/prefix=KEY' (ALIAS: a zone of sos:// URLs, or any one name for s3:// URLs); repeatable; also from SEALSTREAM_ENCRYPT_KEY",
      collect,
    )
    .option(
      '--encrypt-key <map>',
      "SSE-C keys by prefix, mc's older spelling: 'ALIAS/bucket/prefix=KEY,...'",
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
    .option(
      '--ca-bundle <file>',
      'extra CA certificate(s) to trust, PEM (default: AWS_CA_BUNDLE, the profile)',
    )
    .addOption(new Option('--ca <file>', 'the same as --ca-bundle').hideHelp())
    .option('--region <region>', 'signing region (default: the zone, AWS_REGION, the profile, us-east-1)')
    .option('--profile <name>', 'AWS profile for credentials and settings (default: AWS_PROFILE)')
    .option(
      '--allow-http',
      'allow a plain http:// endpoint on this machine (127.0.0.1, ::1, localhost): a local test server',
    )
    .option('--connect-timeout <s>', 'seconds to connect to the store, TLS handshake included (default 10)')
    .option('--read-timeout <s>', 'seconds without a byte sent or received on a connection (default 30)')
    .option(
      '--request-timeout <s>',
      'seconds for one request until the answer starts, sending its body included (default 600)',
    );
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
(disk full, reader closed the pipe, stdout closed), 130 interrupted (SIGINT), 143 terminated (SIGTERM).`,
    );

  outputOptions(
    root
      .command('keygen')
      .description(
        "generate a key: by default a 256-bit key (base64; its key ID goes to stderr); with --type x25519 or pq an age key pair (the private key file as age-keygen writes it; its public key goes to stderr). -y FILE prints the public keys of FILE's private keys, as age-keygen -y",
      )
      .option(
        '-t, --type <type>',
        'raw (default), x25519 (age1… keys) or pq (ML-KEM-768 + X25519, age1pq1… keys)',
      )
      .option('-o, --out <file>', 'write the key to FILE (created with mode 0600) instead of stdout')
      .option('-f, --force', 'replace FILE if it exists')
      .option(
        '-y <file>',
        'print the public key of each private key in FILE (- for stdin) instead of making a key',
      ),
  ).action((options) => run(async (r) => (await import('./commands/keygen.ts')).keygen(options, r), options));

  outputOptions(
    root
      .command('key-id')
      .description(
        'print the key ID of every key in key files (raw keys, age private and public keys), and the public key of age keys: what inspect and ls show',
      )
      .argument('<file...>', 'key files, recipients files or private key files (- for stdin)'),
  ).action((files, options) =>
    run(async (r) => (await import('./commands/keygen.ts')).keyIdCommand(files, r), options),
  );

  outputOptions(
    keyOptions(
      root
        .command('encrypt')
        .description('encrypt a file or stdin to one or more keys and/or passphrases')
        .argument('[input]', 'file to encrypt; - or nothing: stdin')
        .option(
          '-o, --output <file>',
          'write to FILE (renamed into place once complete; an existing FIFO or device is written directly); - or nothing: stdout',
        )
        .option(
          '--identity <id>',
          'bind the data to an identity (e.g. bucket/key), checked by decrypt --identity',
        ),
      'seal',
      { recipient: true },
    ),
  ).action((input, options) =>
    run(async (r) => (await import('./commands/local.ts')).encryptCommand(input, options, r), options),
  );

  outputOptions(
    keyOptions(
      root
        .command('decrypt')
        .description('decrypt a file or stdin with the keys and passphrases given; says which key opened it')
        .argument('[input]', 'file to decrypt; - or nothing: stdin')
        .option(
          '-o, --output <file>',
          'write to FILE, renamed into place only once fully authenticated (an existing FIFO or device gets each chunk as it authenticates); - or nothing: stdout',
        )
        .option('--identity <id>', 'require the data to be bound to this identity'),
      'open',
    ),
  ).action((input, options) =>
    run(async (r) => (await import('./commands/local.ts')).decryptCommand(input, options, r), options),
  );

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
            .option(
              '--parallel <n>',
              'files transferred at once with --recursive (default 4); ignored, with a warning, for one file',
            )
            .option(
              '--bind',
              'client-side: bind each object to its bucket/key on upload, require it on download',
            )
            .option(
              '--restart',
              'uploads of files: start over instead of resuming an interrupted upload of the same file to the same object (the old upload is aborted)',
            )
            .option(
              '--no-resume',
              'uploads of files: keep no resume journal; an interrupted upload is aborted instead of kept for resuming',
            ),
          'seal',
        ),
      ),
    ),
  ).action((source, destination, options) =>
    run(async (r) => (await import('./commands/cp.ts')).cpCommand(source, destination, options, r), options),
  );

  outputOptions(
    storeOptions(
      sseCOptions(
        keyOptions(
          root
            .command('cat')
            .description(
              "write an object's or a file's plaintext to stdout, whole or a byte range; without any key, its bytes as stored (a warning says when they are sealstream data)",
            )
            .argument('<object>', 's3://bucket/key, sos://zone/bucket/key, a local file, or - for stdin')
            .option(
              '--range <range>',
              'bytes=A-B, bytes=A- or bytes=-N (B inclusive): of the plaintext with a key, of the stored bytes without one; not for stdin',
            )
            .option('--bind', 'client-side: require the object to be bound to its bucket/key')
            .option('--identity <id>', 'local files: require this identity'),
          'open',
        ),
      ),
    ),
  ).action((object, options) =>
    run(async (r) => (await import('./commands/read.ts')).catCommand(object, options, r), options),
  );

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
  ).action((target, options) =>
    run(async (r) => (await import('./commands/read.ts')).inspectCommand(target, options, r), options),
  );

  outputOptions(
    storeOptions(
      sseCOptions(
        keyOptions(
          root
            .command('rekey')
            .description(
              'give a file or an object new keys: client-side only the header changes (the payload is kept byte for byte); SSE-C objects are streamed down and up again under the new key, through this machine, never stored unencrypted. A rekey that was killed leaves the object as it was and maybe an incomplete upload, which the next rekey names (sealstream uploads ls|abort)',
            )
            .argument('<target>', 'local file, s3://bucket/key or sos://zone/bucket/key')
            .option('--to-key-file <file>', 'new recipient: the key(s) in FILE; repeatable', collect)
            .option(
              '--to-key <key>',
              'new recipient KEY (visible in the process list: prefer --to-key-file); repeatable',
              collect,
            )
            .option(
              '--to-recipient <key>',
              'new recipient: the age public key KEY (age1… or age1pq1…); repeatable',
              collect,
            )
            .option(
              '--to-recipients-file <file>',
              'new recipients: the age public keys in FILE; repeatable',
              collect,
            )
            .option('--to-passphrase', 'new recipient: a passphrase typed at a prompt')
            .option(
              '--work-factor <logN>',
              'scrypt work factor (logN) of a new passphrase, 10 to 22 (default 18)',
            )
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
  ).action((target, options) =>
    run(async (r) => (await import('./commands/rekey-prefix.ts')).rekeyEntry(target, options, r), options),
  );

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
  ).action((prefix, options) =>
    run(async (r) => (await import('./commands/ls.ts')).lsCommand(prefix, options, r), options),
  );

  const uploads = root
    .command('uploads')
    .description(
      'list and abort incomplete multipart uploads (interrupted uploads kept for resuming, uploads left by a failed abort or by a cp or rekey that was killed): their parts are billed until aborted',
    );
  outputOptions(
    storeOptions(
      uploads
        .command('ls')
        .description(
          'list the incomplete uploads under a prefix: start time, age, parts, size, upload ID, key',
        )
        .argument('<prefix>', 's3://bucket[/prefix] or sos://zone/bucket[/prefix]'),
    ),
  ).action((prefix, options) =>
    run(async (r) => (await import('./commands/uploads.ts')).uploadsLsCommand(prefix, options, r), options),
  );
  outputOptions(
    storeOptions(
      uploads
        .command('abort')
        .description(
          'abort the incomplete upload of an object key (its parts are deleted; a stored object is not touched), or with --all every one under a prefix; a key with several uploads needs --upload-id',
        )
        .argument('<target>', 's3://bucket/key, or with --all s3://bucket[/prefix] (sos://zone/... too)')
        .option('--upload-id <id>', 'the upload to abort, when the key has several (uploads ls shows them)')
        .option('--all', 'abort every incomplete upload whose key starts with the prefix'),
    ),
  ).action((target, options) =>
    run(
      async (r) => (await import('./commands/uploads.ts')).uploadsAbortCommand(target, options, r),
      options,
    ),
  );

  return root;
}

/** Commands whose work is done by a subcommand (`uploads ls`): global options go after the subcommand. */
const GROUPS: Record<string, readonly string[]> = { uploads: ['ls', 'abort'] };

/**
 * Options that may come before the subcommand (`sealstream --profile x cp ...`), as in aws-cli,
 * and whether each takes a value. They are moved after the subcommand, where they are defined.
 */
const GLOBAL_OPTIONS: Record<string, boolean> = {
  '--endpoint': true,
  '--zone': true,
  '--ca': true,
  '--ca-bundle': true,
  '--region': true,
  '--profile': true,
  '--connect-timeout': true,
  '--read-timeout': true,
  '--request-timeout': true,
  '--allow-http': false,
  '--json': false,
  '--quiet': false,
  '-q': false,
};

/**
 * The arguments with the global options given before the subcommand moved after it. Anything
 * else before the subcommand (`--help`, `--version`, an unknown option) leaves the arguments as
 * they are, for commander to handle.
 */
export function hoistGlobalOptions(argv: readonly string[], commands: readonly string[]): string[] {
  const head = argv.slice(0, 2);
  const rest = argv.slice(2);
  const moved: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const arg = rest[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    const takesValue = GLOBAL_OPTIONS[name];
    if (takesValue === undefined) break;
    const width = takesValue && !arg.includes('=') ? 2 : 1;
    moved.push(...rest.slice(i, i + width));
    i += width;
  }
  if (moved.length === 0 || !commands.includes(rest[i] ?? '')) return [...argv];
  const width = GROUPS[rest[i]!]?.includes(rest[i + 1] ?? '') ? 2 : 1;
  return [...head, ...rest.slice(i, i + width), ...moved, ...rest.slice(i + width)];
}

/** Runs the command line; resolves to the exit code once every byte of output is written. */
/** Commands that never reach a store. */
const LOCAL_COMMANDS = new Set(['keygen', 'key-id', 'encrypt', 'decrypt']);

/** The store module, once a command that reaches a store has loaded it. */
let store: typeof import('./store.ts') | undefined;

export async function main(argv: string[]): Promise<number> {
  // the SDK warns that its releases after January 2027 need Node 22; this build's pinned SDK runs on 20
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  handleSignals();
  watchStandardStreams();
  // before parsing: a command line that does not parse is reported as JSON too
  let reporter = new Reporter({ json: argv.includes('--json') });
  let code: number = EXIT.OK;
  let commandName: string | undefined;
  const root = program(async (work, flags) => {
    reporter = new Reporter(flags as { quiet?: boolean; json?: boolean });
    const current = reporter;
    warnStalePartialsWith((message) => current.warn(message));
    // the store's configuration is read only by commands that reach a store: encrypt, decrypt and
    // keygen start without loading the AWS SDK
    if (commandName !== undefined && !LOCAL_COMMANDS.has(commandName)) {
      store = await import('./store.ts');
      await store.loadProfile((flags as { profile?: string }).profile);
    }
    await work(reporter);
    // every command answers `--json` with a JSON line, also those whose output is data (cat)
    if (current.json && !current.resulted) current.result({ command: commandName, ok: true }, undefined);
  });
  let usageMessage: string | undefined;
  root.configureOutput({
    outputError: (text, write) => {
      usageMessage = text.trim().replace(/^error: /, '');
      write(text);
    },
  });
  for (const command of root.commands.flatMap((c) => [c, ...c.commands])) {
    command.configureOutput({
      outputError: (text, write) => {
        usageMessage = text.trim().replace(/^error: /, '');
        write(text);
      },
    });
    command.hook('preAction', (_hooked, action) => {
      commandName = action.parent === root ? action.name() : `${action.parent?.name()} ${action.name()}`;
    });
  }
  const fail = (err: unknown) => {
    const failure = interruption(err) ?? failureWithOutcome(err);
    code = exitCodeOf(failure);
    reporter.failure(failureJson(failure), describeError(failure), hintOf(failure));
  };
  try {
    await root.parseAsync(
      hoistGlobalOptions(
        argv,
        root.commands.map((c) => c.name()),
      ),
    );
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      if (code !== EXIT.OK && reporter.json)
        reporter.result(usageJson(usageMessage ?? err.message), undefined);
    } else fail(err);
  } finally {
    store?.destroyClients();
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
