#!/usr/bin/env node
/**
 * The `sealstream` executable. Before anything else is loaded (the AWS SDK takes up to seconds
 * to load), a key given on the command line is wiped from the argument memory that
 * `/proc/<pid>/cmdline` and `ps` show, so the window in which other users can read it is the
 * start of Node itself. Then the program runs (`main.ts`).
 * @module
 */

/** Flags whose value is key material (`--key KEY` or `--key=KEY`); `--key-file` and the like are not. */
const KEY_FLAG = /^--(key|to-key|sse-c|sse-c-key|to-sse-c|encrypt-key|enc-c|to-encrypt-key)(=|$)/;

if (process.argv.some((arg) => KEY_FLAG.test(arg))) {
  // overwrites (and zero-fills) the original argument memory; process.argv keeps its copy
  process.title = 'sealstream';
}

await import('./main.ts');
