/**
 * Every `--flag` the READMEs name for the `sealstream` command is one the command has: a flag
 * renamed or removed in the code, or misspelt in a README, fails here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, buildCli } from '../../packages/cli/test/helpers.ts';

const root = resolve(import.meta.dirname, '../..');

/** Flags the READMEs name for other programs: npm, pnpm scripts, chromium, mc. */
const OTHER_PROGRAMS = new Set([
  '--check', // pnpm vectors --check
  '--size', // pnpm demo --size
  '--only', // pnpm bench --only
  '--omit', // npm install --omit=optional
  '--incomplete', // mc rm --incomplete
  '--ignore-certificate-errors-spki-list', // chromium
  '--conditions', // node --conditions=sealstream-src
  '--import', // node --import tsx
  '--filter', // pnpm --filter
]);

/** Aliases the command takes but hides from --help, as the READMEs say. */
const HIDDEN_ALIASES = new Set(['--ca']); // of --ca-bundle

function help(...command: string[]): string {
  return execFileSync(process.execPath, [bin, ...command, '--help'], { encoding: 'utf8' });
}

describe('the flags the READMEs name', () => {
  let helps = '';
  beforeAll(() => {
    buildCli();
    const top = help();
    const commands = [...top.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1] ?? '');
    expect(commands).toContain('cp');
    helps = [
      top,
      ...commands.filter((c) => c !== 'help').map((c) => help(c)),
      help('uploads', 'ls'),
      help('uploads', 'abort'),
    ].join('\n');
  });

  for (const readme of ['README.md', 'packages/cli/README.md']) {
    it(`${readme}: every --flag is one of the command's`, () => {
      const text = readFileSync(join(root, readme), 'utf8');
      const named = new Set([...text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
      const missing = [...named].filter(
        (flag) =>
          !OTHER_PROGRAMS.has(flag) &&
          !HIDDEN_ALIASES.has(flag) &&
          !new RegExp(`${flag}(?![\\w-])`).test(helps),
      );
      expect(missing).toEqual([]);
    });
  }
});
