// pnpm bench [--quick] [--only openssl,core,file,memory,peers,s3,browser] [--runs N]
//
// Measures every figure in one process run (so that ratios compare like with like on a noisy
// machine), then writes bench/results/latest.{json,md,svg} (results/quick/ with --quick, results/only/
// with --only) and prints the table.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runBrowser } from './browser.ts';
import { runCliVsAge } from './cli.ts';
import { type Context, FULL_SIZES, makeTmp, QUICK_SIZES, RESULTS_DIR, removeTmp } from './context.ts';
import { loadCore } from './core-api.ts';
import { type Codec, runFilePipelines, sealstreamCodec } from './file.ts';
import { runIsolated } from './isolated.ts';
import { describeMachine } from './machine.ts';
import { runMemory } from './memory.ts';
import { runOpenssl } from './openssl.ts';
import { PEERS, peerCodecs } from './peers.ts';
import { type Results, toMarkdown, writeResults } from './report.ts';
import {
  FAMILIES,
  type FamilyName,
  type FamilyResult,
  type Figure,
  log,
  ratio,
  type Skip,
} from './runner.ts';

const USAGE = `usage: pnpm bench [--quick] [--only ${FAMILIES.join(',')}] [--runs N]
  --quick   small sizes and fewer runs (under a minute); the numbers are for keeping the bench working
  --only    measure only these families (comma-separated); ratios need both of their sides
  --runs    runs per figure, for all families; default 5 (openssl, core), 3 (file, peers, s3),
            3 (memory; 1 with --quick), and 3 for openssl and core with --quick`;

function parse(argv: string[]): Context | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) return null;
  const only = new Set<FamilyName>();
  for (const name of (values.only ?? FAMILIES.join(',')).split(',').map((s) => s.trim())) {
    if (!(FAMILIES as readonly string[]).includes(name)) {
      throw new Error(`--only: expected some of ${FAMILIES.join(', ')}, got "${name}"`);
    }
    only.add(name as FamilyName);
  }
  const quick = values.quick;
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) {
    throw new Error(`--runs: expected a positive integer, got "${values.runs}"`);
  }
  return {
    quick,
    sizes: quick ? QUICK_SIZES : FULL_SIZES,
    runs: runs ?? (quick ? 3 : 5),
    fileRuns: runs ?? 3,
    memoryRuns: runs ?? (quick ? 1 : 3),
    tmp: '',
    only,
  };
}

/** The file family and the peers share one set of rounds, so that their ratios are paired. */
async function runFileAndPeers(ctx: Context): Promise<FamilyResult> {
  const skips: Skip[] = [];
  const codecs: Codec[] = [];
  const loaded = await loadCore();
  if (loaded.ok) codecs.push(sealstreamCodec(loaded.core));
  else
    skips.push({
      family: 'file',
      what: 'file_pipeline_encrypt, file_pipeline_decrypt',
      reason: loaded.reason,
    });
  if (ctx.only.has('peers')) {
    const peers = await peerCodecs(ctx);
    codecs.push(...peers.codecs);
    skips.push(...peers.skips);
  }
  const result = await runFilePipelines(ctx, codecs, ctx.only.has('file'));
  // With --only peers, sealstream's own pipeline runs as the reference of the ratios.
  return { figures: result.figures, skips: [...skips, ...result.skips] };
}

/** Ratios, always sealstream over the other: [name, numerator, denominator, family]. */
function ratios(figures: Figure[]): Figure[] {
  const byName = new Map(figures.map((f) => [f.name, f]));
  const wanted: Array<[string, string, string, FamilyName]> = [
    ['core_encrypt_node_vs_openssl', 'core_encrypt_node', 'openssl_aes256gcm_16k', 'core'],
    ['core_decrypt_node_vs_openssl', 'core_decrypt_node', 'openssl_aes256gcm_16k', 'core'],
    ['core_encrypt_native_vs_openssl', 'core_encrypt_native', 'openssl_aes256gcm_16k', 'core'],
    ['core_decrypt_native_vs_openssl', 'core_decrypt_native', 'openssl_aes256gcm_16k', 'core'],
    ['file_pipeline_encrypt_vs_copy', 'file_pipeline_encrypt', 'file_pipeline_copy', 'file'],
    ['file_pipeline_decrypt_vs_copy', 'file_pipeline_decrypt', 'file_pipeline_copy', 'file'],
    ...PEERS.flatMap(
      (peer): Array<[string, string, string, FamilyName]> => [
        [`file_pipeline_encrypt_vs_${peer}`, 'file_pipeline_encrypt', `peer_${peer}_encrypt`, 'peers'],
        [`file_pipeline_decrypt_vs_${peer}`, 'file_pipeline_decrypt', `peer_${peer}_decrypt`, 'peers'],
      ],
    ),
    ['cli_encrypt_vs_age_go', 'cli_encrypt', 'cli_age_go_encrypt', 'file'],
    ['cli_decrypt_vs_age_go', 'cli_decrypt', 'cli_age_go_decrypt', 'file'],
    ['cli_encrypt_vs_age_go_cpu', 'cli_encrypt_cpu', 'cli_age_go_encrypt_cpu', 'file'],
    ['cli_decrypt_vs_age_go_cpu', 'cli_decrypt_cpu', 'cli_age_go_decrypt_cpu', 'file'],
    ['upload_encrypted_vs_plain', 'upload_encrypted', 'upload_plain', 's3'],
    ['download_decrypted_vs_plain', 'download_decrypted', 'download_plain', 's3'],
  ];
  const out: Figure[] = [];
  for (const [name, num, den, family] of wanted) {
    const a = byName.get(num);
    const b = byName.get(den);
    if (a && b) out.push(ratio(name, family, a, b));
  }
  return out;
}

/**
 * Figures that issue 9 judges by name. Those this run did not produce are listed as not measured,
 * with the reason, rather than left out silently (or faked).
 */
const JUDGED: Array<[string, FamilyName, string]> = [
  ['core_encrypt_default_vs_openssl', 'core', ''],
  ['core_decrypt_default_vs_openssl', 'core', ''],
  ['cli_encrypt_vs_age_go', 'file', ''],
  ['cli_decrypt_vs_age_go', 'file', ''],
  ['upload_encrypted_vs_plain', 's3', ''],
  ['download_decrypted_vs_plain', 's3', ''],
  ['peak_rss_mib_upload_2gib', 's3', ''],
  ['ranged_read_bytes_fetched', 's3', ''],
  ['ranged_read_requests', 's3', ''],
];

function notYetMeasured(figures: Figure[], skipped: Skip[], ctx: Context): Skip[] {
  const have = new Set(figures.map((f) => f.name));
  return JUDGED.filter(([name]) => !have.has(name)).map(([name, family, why]) => ({
    family,
    what: name,
    reason:
      why ||
      (!ctx.only.has(family)
        ? `the ${family} family was not selected`
        : (skipped.find((s) => s.family === family)?.reason ?? `the ${family} family did not produce it`)),
  }));
}

async function main(): Promise<number> {
  const ctx = parse(process.argv.slice(2));
  if (ctx === null) {
    console.log(USAGE);
    return 0;
  }
  const start = performance.now();
  ctx.tmp = makeTmp();
  const figures: Figure[] = [];
  const skipped: Skip[] = [];
  let failed = false;

  const steps: Array<[string, boolean, () => Promise<FamilyResult>]> = [
    ['openssl', ctx.only.has('openssl'), () => runOpenssl(ctx)],
    ['core', ctx.only.has('core'), () => runIsolated('core', ctx)],
    ['file, peers', ctx.only.has('file') || ctx.only.has('peers'), () => runFileAndPeers(ctx)],
    ['file, cli vs age', ctx.only.has('file'), () => runCliVsAge(ctx)],
    ['memory', ctx.only.has('memory'), () => runMemory(ctx)],
    ['s3', ctx.only.has('s3'), () => runIsolated('s3', ctx)],
    ['browser', ctx.only.has('browser'), () => runBrowser(ctx)],
  ];
  try {
    for (const [name, selected, step] of steps) {
      if (!selected) continue;
      log(`== ${name}`);
      try {
        const result = await step();
        figures.push(...result.figures);
        skipped.push(...result.skips);
        for (const s of result.skips) {
          log(`  not measured: ${s.what}: ${s.reason}`);
          failed ||= s.failed === true;
        }
      } catch (err) {
        failed = true;
        log(`  failed: ${(err as Error).stack ?? err}`);
        const family = name.split(',')[0] as FamilyName;
        skipped.push({
          family,
          what: `${name} figures`,
          reason: `failed: ${(err as Error).message}`,
          failed: true,
        });
      }
    }
  } finally {
    removeTmp(ctx.tmp);
  }

  figures.push(...ratios(figures));
  skipped.push(...notYetMeasured(figures, skipped, ctx));
  const results: Results = {
    date: new Date().toISOString(),
    mode: ctx.quick ? 'quick' : 'full',
    runs: {
      openssl: ctx.runs,
      core: ctx.runs,
      file: ctx.fileRuns,
      memory: ctx.memoryRuns,
      browser: ctx.runs,
    },
    durationSeconds: (performance.now() - start) / 1000,
    machine: describeMachine(),
    sizes: ctx.sizes,
    figures,
    skipped,
  };
  // Quick and partial runs write aside, so that they never overwrite the figures of a full run.
  const partial = ctx.only.size < FAMILIES.length;
  const dir = ctx.quick ? join(RESULTS_DIR, 'quick') : partial ? join(RESULTS_DIR, 'only') : RESULTS_DIR;
  mkdirSync(dir, { recursive: true });
  const written = writeResults(dir, results);
  console.log(toMarkdown(results));
  log(`wrote ${written.join(', ')}`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
