#!/usr/bin/env node
/**
 * `pnpm release:pack [--out DIR] [--no-build]`: builds the publishable packages and packs each one
 * into DIR (default `release/`) with `pnpm pack`, which replaces `workspace:*` ranges with the
 * packed versions (`npm pack` would leave them, and npm cannot install a `workspace:` range).
 * Then it opens every tarball and refuses it (exit 1) when a user could not install or use it:
 *
 * - a dependency range npm cannot resolve (`workspace:`, `link:`, `file:`), or a sibling package
 *   pinned to another version than the one packed beside it;
 * - a missing LICENSE (or one that differs from the repository's), README.md, `repository`,
 *   `engines.node` or `license` field;
 * - an entry point (`main`, `types`, `bin`, `exports`, `typesVersions`) naming a file not shipped;
 * - a source map whose sources are not shipped;
 * - a declaration marked `@internal` in the sources that is still present in the shipped types;
 * - a file no user needs and some must not get: tests, `.env` files, private keys and certificates,
 *   anything over 1 MiB.
 *
 * And it refuses a README whose install command names some of the tarballs but not all: a user who
 * left out @sealstream/native got no addon (npm looked for it on the registry, found nothing and
 * skipped the optional dependency without a word), and one who left out core could not install.
 *
 * It prints one line per tarball and writes DIR/packages.json (names, files, sizes) for CI.
 * @module
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
/** Publishable packages, dependencies first. */
const PACKAGES = ['native', 'core', 'sos', 'cli'];
/** Ranges only a workspace-aware package manager understands. */
const UNINSTALLABLE_RANGE = /^(workspace|link|file|portal):/;
/** Files that have no place in a published package: tests, environment files, keys, certificates. */
const UNWANTED_FILE =
  /(^|\/)(test|tests|__tests__)\/|\.test\.[cm]?[jt]s$|(^|\/)\.env(\..*)?$|\.(pem|key|p12|pfx|crt)$|(^|\/)id_(rsa|ecdsa|ed25519)$|(^|\/)\.npmrc$/;
const MAX_FILE_BYTES = 1 << 20;
/** A command line that installs packages. */
const INSTALL_COMMAND = /\b(npm|pnpm|yarn)\s+(install|i|add)\b/;
/** The READMEs that tell users how to install the tarballs. */
const INSTALL_DOCS = ['README.md', ...PACKAGES.map((p) => `packages/${p}/README.md`)];

const { values: args } = parseArgs({
  options: { out: { type: 'string', default: 'release' }, 'no-build': { type: 'boolean', default: false } },
});
const out = resolve(root, args.out);

if (!args['no-build']) execFileSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const versions = new Map(
  PACKAGES.map((p) => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8'));
    return [manifest.name, manifest.version];
  }),
);

const problems = [];
const report = [];
for (const p of PACKAGES) {
  const dir = join(root, 'packages', p);
  execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, stdio: 'pipe' });
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const tarball = join(out, `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`);
  if (!existsSync(tarball)) {
    problems.push(`${manifest.name}: pnpm pack wrote no ${relative(root, tarball)}`);
    continue;
  }
  const unpacked = mkdtempSync(join(tmpdir(), 'sealstream-pack-'));
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    const pkg = join(unpacked, 'package');
    const files = listFiles(pkg);
    const found = checkPackage(pkg, new Set(files));
    problems.push(...found.map((f) => `${manifest.name}: ${f}`));
    const bytes = readFileSync(tarball).byteLength;
    report.push({
      name: manifest.name,
      version: manifest.version,
      tarball: relative(root, tarball),
      bytes,
      files,
    });
    console.log(
      `${found.length ? 'FAIL' : 'ok  '} ${relative(root, tarball)}  ${files.length} files, ${bytes} bytes`,
    );
  } finally {
    rmSync(unpacked, { recursive: true, force: true });
  }
}
writeFileSync(join(out, 'packages.json'), `${JSON.stringify(report, null, 2)}\n`);
problems.push(...incompleteInstallCommands(report.map((r) => r.tarball.split('/').pop())));
if (problems.length > 0) {
  console.error(
    `\nrelease:pack: ${problems.length} problem(s):\n${problems.map((x) => `  - ${x}`).join('\n')}`,
  );
  process.exit(1);
}
console.log(`\ninstall with: npm install ${report.map((r) => `./${r.tarball}`).join(' ')}`);

/** Every problem a user installing this unpacked package would meet. */
function checkPackage(pkg, files) {
  const found = [];
  const m = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(m[field] ?? {})) {
      if (UNINSTALLABLE_RANGE.test(range))
        found.push(`${field}.${dep} is "${range}", which npm cannot install`);
      else if (versions.has(dep) && range !== versions.get(dep))
        found.push(`${field}.${dep} is "${range}", but ${versions.get(dep)} is packed beside it`);
    }
  }
  if (!m.license) found.push('no "license" field');
  if (!m.repository?.url) found.push('no "repository" field');
  if (!m.engines?.node) found.push('no "engines.node" field');
  if (!files.has('README.md')) found.push('README.md is not shipped');
  if (!files.has('LICENSE')) found.push('LICENSE is not shipped');
  else if (readFileSync(join(pkg, 'LICENSE'), 'utf8') !== license)
    found.push("LICENSE differs from the repository's LICENSE");
  for (const target of entryPoints(m)) {
    if (!files.has(normalize(target))) found.push(`entry point ${target} is not shipped`);
  }
  const bins = typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {});
  for (const bin of bins) {
    if (files.has(normalize(bin)) && !readFileSync(join(pkg, bin), 'utf8').startsWith('#!/usr/bin/env node'))
      found.push(`bin ${bin} has no #!/usr/bin/env node line`);
  }
  for (const map of [...files].filter((f) => f.endsWith('.map'))) {
    const { sources = [] } = JSON.parse(readFileSync(join(pkg, map), 'utf8'));
    for (const source of sources) {
      const target = normalize(join(dirname(map), source));
      if (!files.has(target)) found.push(`${map} points to ${source}, which is not shipped`);
    }
  }
  found.push(...leakedInternals(pkg, files));
  found.push(...unusedSources(pkg, files, m));
  found.push(...subpathsWithoutLegacyTypes(m));
  for (const file of files) {
    if (UNWANTED_FILE.test(file))
      found.push(`${file} is shipped (tests, environment files and keys never are)`);
    const bytes = readFileSync(join(pkg, file)).byteLength;
    if (bytes > MAX_FILE_BYTES) found.push(`${file} is shipped and is ${bytes} bytes (over 1 MiB)`);
  }
  return found;
}

/**
 * Exported subpaths whose types TypeScript's legacy `moduleResolution: node10` cannot find: it never
 * reads `exports`, only `typesVersions`, which must map each subpath to the same declarations.
 */
function subpathsWithoutLegacyTypes(m) {
  const found = [];
  const legacy = m.typesVersions?.['*'] ?? {};
  for (const [subpath, target] of Object.entries(m.exports ?? {})) {
    if (subpath === '.' || subpath === './package.json' || typeof target !== 'object') continue;
    const name = subpath.slice('./'.length);
    if (typeof target.types !== 'string') continue;
    if (!(legacy[name] ?? []).map((t) => normalize(t)).includes(normalize(target.types)))
      found.push(
        `exports["${subpath}"] has types ${target.types}, but typesVersions["*"]["${name}"] does not (node10 finds no types)`,
      );
  }
  return found;
}

/**
 * Shipped TypeScript sources that nothing a user has reaches: no source map names them and no entry point
 * (such as the `sealstream-src` condition) points at them. They only weigh on every install.
 */
function unusedSources(pkg, files, m) {
  const reached = new Set(entryPoints(m).map((t) => normalize(t)));
  for (const map of [...files].filter((f) => f.endsWith('.map'))) {
    const { sources = [] } = JSON.parse(readFileSync(join(pkg, map), 'utf8'));
    for (const source of sources) reached.add(normalize(join(dirname(map), source)));
  }
  // TypeScript sources only: the native package's src/gcm.c is what its install script builds
  const unused = [...files].filter((f) => /^src\/.*\.[cm]?ts$/.test(f) && !reached.has(f));
  return unused.length === 0
    ? []
    : [
        `ships ${unused.length} file(s) under src/ that no source map or entry point reaches (${unused.slice(0, 3).join(', ')}${unused.length > 3 ? ', ...' : ''}): leave src out of "files"`,
      ];
}

/**
 * Install commands in the READMEs that name some of the packed tarballs (`./release/<tarball>`) but not all
 * of them, each with what it leaves out.
 */
function incompleteInstallCommands(tarballs) {
  const found = [];
  for (const doc of INSTALL_DOCS) {
    const lines = readFileSync(join(root, doc), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const named = new Set(
        [...line.matchAll(/release\/(sealstream-[a-z]+-[^\s/]+\.tgz)/g)].map((m) => m[1]),
      );
      if (named.size === 0 || !INSTALL_COMMAND.test(line)) return;
      const missing = tarballs.filter((t) => !named.has(t));
      const unknown = [...named].filter((t) => !tarballs.includes(t));
      if (missing.length || unknown.length)
        found.push(
          `${doc}:${i + 1} installs ${[...named].join(' ')}: ${[
            missing.length ? `leaves out ${missing.join(', ')}` : '',
            unknown.length ? `names ${unknown.join(', ')}, which is not packed` : '',
          ]
            .filter(Boolean)
            .join('; ')}`,
        );
    });
  }
  return found;
}

/** Every file path a manifest names as an entry point, relative to the package. */
function entryPoints(m) {
  const targets = [];
  const walk = (v) => {
    if (typeof v === 'string') targets.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(m.main);
  walk(m.types);
  walk(m.bin);
  walk(m.typesVersions);
  // the `sealstream-src` condition points into src/, which core and sos ship on purpose
  walk(m.exports);
  return targets.filter((t) => !t.includes('*'));
}

/**
 * Names declared right after an `@internal` TSDoc tag in a shipped source file that are still
 * declared in the matching `.d.ts` (`stripInternal` missing or not applied).
 */
function leakedInternals(pkg, files) {
  const found = [];
  for (const source of [...files].filter((f) => f.startsWith('src/') && f.endsWith('.ts'))) {
    const declaration = `dist/${source.slice('src/'.length, -'.ts'.length)}.d.ts`;
    if (!files.has(declaration)) continue;
    const text = readFileSync(join(pkg, source), 'utf8');
    const types = readFileSync(join(pkg, declaration), 'utf8');
    for (const match of text.matchAll(
      /@internal[\s\S]*?\*\/\s*(?:readonly\s+|static\s+|export\s+)*([A-Za-z_$][\w$]*)/g,
    )) {
      const id = match[1];
      if (new RegExp(`(^|[\\s{;])${id.replace('$', '\\$')}\\??\\s*[:(<]`, 'm').test(types))
        found.push(`${declaration} still declares ${id}, marked @internal in ${source} (stripInternal)`);
    }
  }
  return found;
}

/** Paths of every file under `dir`, relative to it, with `/` separators. */
function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [relative(base, p)];
  });
}
