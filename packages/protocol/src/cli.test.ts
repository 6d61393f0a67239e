import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EN_TEXTS, UsageError, runProgram, type Command, type Program } from './cli.js';

const greet: Command<string> = {
  name: 'greet',
  summary: 'says hello',
  usage: 'greet --name N [--json]',
  options: {
    name: { type: 'string', env: 'GREET_NAME', help: 'who' },
    tag: { type: 'string', multiple: true, help: 'a tag; repeat for more' },
  },
  async run(a, io, ctx) {
    if (a.get('name') === 'nobody') throw new UsageError('nobody is not a name');
    io.out(a.json ? JSON.stringify({ hello: a.need('name'), tags: a.list('tag'), ctx }) : `hello ${a.need('name')}`);
    return 0;
  },
};
const program: Program<string> = { name: 'demo', title: 'demo — a test program', commands: [greet], texts: EN_TEXTS, noCommandExit: 1 };

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runProgram(program, argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, env, { context: () => 'ctx' });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('CLI framework', () => {
  it('generates the program help and each command help from the declarations', async () => {
    const top = await run([]);
    assert.equal(top.code, 1);
    assert.match(top.out, /greet\s+says hello/);
    const help = await run(['greet', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: demo greet --name N/);
    assert.match(help.out, /--name <value>\s+who \(env GREET_NAME\)/);
    assert.match(help.out, /-h, --help/);
  });

  it('takes a flag over its environment variable, and repeats of a multiple option', async () => {
    assert.equal((await run(['greet'], { GREET_NAME: 'env' })).out, 'hello env');
    assert.equal((await run(['greet', '--name', 'flag'], { GREET_NAME: 'env' })).out, 'hello flag');
    const json = await run(['greet', '--name', 'a', '--tag', 'x', '--tag', 'y', '--json']);
    assert.deepEqual(JSON.parse(json.out), { hello: 'a', tags: ['x', 'y'], ctx: 'ctx' });
  });

  it('refuses unknown commands and options, and missing settings, with exit 2', async () => {
    const unknown = await run(['nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "nope"/);
    const badFlag = await run(['greet', '--what']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.err, /Usage: demo greet/);
    const missing = await run(['greet']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--name \(or GREET_NAME\) is required/);
    assert.equal((await run(['greet', '--name', 'nobody'])).code, 2);
  });
});
