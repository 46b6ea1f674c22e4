// Decodes a gzipped pprof profile with the pprof-format package (npm) and
// checks what a reader relies on: sample types, every sample's locations
// resolve to a location whose line names a function whose name is in the
// string table, value counts match the sample types, and a thread label.
// Prints one line of facts and exits 0, or the first violation and exits 1.
// Usage: NODE_PATH=DIR/node_modules node check-pprof.js FILE
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const { Profile } = require('pprof-format');

function fail(msg) {
  console.log('INVALID: ' + msg);
  process.exit(1);
}

const raw = zlib.gunzipSync(fs.readFileSync(process.argv[2]));
const p = Profile.decode(raw);
const str = (i) => p.stringTable.strings[Number(i)];
const types = p.sampleType.map((t) => str(t.type) + '/' + str(t.unit));
if (types.length !== 4) fail('expected 4 sample types, got ' + types.join(','));
const locs = new Map(p.location.map((l) => [Number(l.id), l]));
const funcs = new Map(p.function.map((f) => [Number(f.id), f]));
let cpu = 0n, off = 0n, lock = 0n, samples = 0;
for (const s of p.sample) {
  if (s.value.length !== types.length) fail('a sample has ' + s.value.length + ' values');
  for (const id of s.locationId) {
    const l = locs.get(Number(id));
    if (!l) fail('location ' + id + ' missing');
    for (const line of l.line) {
      const f = funcs.get(Number(line.functionId));
      if (!f || typeof str(f.name) !== 'string') fail('function of location ' + id + ' missing');
    }
  }
  if (!s.label.some((lb) => str(lb.key) === 'thread')) fail('a sample has no thread label');
  samples++;
  cpu += BigInt(s.value[1]);
  off += BigInt(s.value[2]);
  lock += BigInt(s.value[3]);
}
console.log('pprof ok: types ' + types.join(',') + '; ' + samples + ' samples, ' + p.location.length +
  ' locations, ' + p.function.length + ' functions; cpu_ns=' + cpu + ' off_cpu_ns=' + off +
  ' lock_wait_ns=' + lock);
