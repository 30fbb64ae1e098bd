/** The heap sizes warre gives the processes it forks (src/cli/cluster.ts, BENCHMARKS.md memory). */
import { describe, expect, it } from 'vitest';
import { copyExecArgv, HEAP_FLAGS } from '../../src/cli/cluster.js';

describe('heap flags of forked copies', () => {
  it('adds the old-space and semi-space sizes to what the primary was started with', () => {
    expect(copyExecArgv(['--enable-source-maps'], '')).toEqual([
      '--enable-source-maps',
      `--max-old-space-size=${HEAP_FLAGS['--max-old-space-size']}`,
      `--max-semi-space-size=${HEAP_FLAGS['--max-semi-space-size']}`,
    ]);
  });

  it("leaves an operator's own sizes alone, on the command line or in NODE_OPTIONS", () => {
    expect(copyExecArgv(['--max-old-space-size=1024'], '')).toEqual(['--max-old-space-size=1024', '--max-semi-space-size=8']);
    expect(copyExecArgv([], '--max-semi-space-size=16 --max-old-space-size=512')).toEqual([]);
  });
});
