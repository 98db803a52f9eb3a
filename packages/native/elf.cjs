'use strict';
// Checks a shared object before dlopen() sees it. The dynamic loader trusts the file's program
// headers: it maps each loadable segment at the length the header gives, so a file cut short (an
// interrupted install or copy, a full disk) is mapped past its end and the first touch of the missing
// pages kills the process with SIGBUS, before any JavaScript can catch it. The same goes for every
// process that merely loads sealstream. The checks here are what that needs: the file is whole
// enough for every segment, and it was made for this processor (dlopen's own answer to a wrong
// architecture is a misleading "No such file or directory").
// ELF64 little-endian only: the prebuilt binary and a build from source on every 64-bit Linux;
// other files (Mach-O, PE, ELF32) are left to the loader.

const { closeSync, fstatSync, openSync, readSync } = require('node:fs');

/** e_machine values of the ELF processors Node.js runs on (System V ABI). */
const MACHINES = { x64: 62, arm64: 183, ppc64: 21, s390x: 22, riscv64: 243, loong64: 258 };
const PT_LOAD = 1;
/** ELF64 header size; program headers are read with it (a binary's fit in 4 KiB easily). */
const HEADER = 64;
const MAX_PROGRAM_HEADERS = 256;

/**
 * Why `path` cannot be a loadable shared object for this process, or undefined when it may be.
 * @param {string} path
 * @returns {string | undefined}
 */
function unloadableElf(path) {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(HEADER);
    const got = readSync(fd, head, 0, HEADER, 0);
    if (got < 4 || head.toString('latin1', 0, 4) !== '\x7fELF') return undefined; // not ELF: dlopen decides
    if (got < HEADER)
      return `is cut short (${size} bytes, not even an ELF header): reinstall @sealstream/native`;
    if (head[4] !== 2 || head[5] !== 1) return undefined; // ELF32 or big-endian: dlopen decides
    const machine = head.readUInt16LE(18);
    const expected = MACHINES[process.arch];
    if (expected !== undefined && machine !== expected) {
      const name =
        Object.keys(MACHINES).find((arch) => MACHINES[arch] === machine) ?? `ELF machine ${machine}`;
      return `was built for ${name}, but this process runs on ${process.arch}`;
    }
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    if (phnum > MAX_PROGRAM_HEADERS || phentsize < 56 || phoff + phnum * phentsize > size)
      return `is damaged or cut short (${size} bytes; its program headers end past that): reinstall @sealstream/native`;
    const table = Buffer.alloc(phnum * phentsize);
    readSync(fd, table, 0, table.length, phoff);
    let needed = 0;
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (table.readUInt32LE(at) !== PT_LOAD) continue;
      const end = Number(table.readBigUInt64LE(at + 8)) + Number(table.readBigUInt64LE(at + 32));
      needed = Math.max(needed, end);
    }
    if (needed > size)
      return `is cut short (${size} bytes; its segments need ${needed}): reinstall @sealstream/native`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

module.exports = { unloadableElf };
