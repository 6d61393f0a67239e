// The platform CLI as one file, built with esbuild straight from the TypeScript sources.
//
// Why: Node spends most of a start loading modules one by one (Kysely alone is 263 ES modules), and a fresh
// clone's `npm start` would otherwise wait for a full `tsc` build. One bundled file loads in a third of the time
// and builds in about a second. Type-checking is not skipped, only moved: `npm run build`, `npm test` and
// `npm run lint` run tsc. PGlite stays outside the bundle: it finds its WebAssembly and data files beside itself.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the bundle of the platform CLI lives; it sits in the platform's dist so relative look-ups work. */
export const platformBundle = join(root, 'packages/platform/dist/mdl.bundle.mjs');

const SOURCES = ['packages/platform/src', 'packages/protocol/src'];
const FASTIFY_COMPILERS = ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'];

/** Newest modification time of the sources the bundle is made of (tests are not part of it). */
function newestSource() {
  let newest = statSync(join(root, 'package-lock.json')).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const s of SOURCES) walk(join(root, s));
  return newest;
}

/** True when the bundle exists and no source is newer (an installation without sources counts as fresh). */
export function bundleIsFresh() {
  if (!existsSync(platformBundle)) return false;
  if (!existsSync(join(root, SOURCES[0]))) return true;
  return statSync(platformBundle).mtimeMs >= newestSource();
}

/** esbuild, or undefined where it is not installed (a production install pruned of dev dependencies). */
async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    return undefined;
  }
}

/**
 * Builds the bundle when it is missing or older than a source. Returns false when esbuild is not there.
 * Written aside and renamed, so processes started together never load a half-written file.
 */
export async function ensurePlatformBundle() {
  if (bundleIsFresh()) return true;
  const esbuild = await loadEsbuild();
  if (!esbuild) return false;
  const tmpDir = join(dirname(platformBundle), `.bundle-${process.pid}`);
  const tmp = join(tmpDir, basename(platformBundle));
  mkdirSync(tmpDir, { recursive: true });
  try {
    await esbuild.build({
      entryPoints: [join(root, 'packages/platform/src/cli/mdl.ts')],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      // Less to read and parse at every start; names are kept, so stack traces stay readable (and the map is linked).
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      logLevel: 'error',
      plugins: [protocolFromSources],
      // Fastify's schema compilers load only when a route needs one (start/lazy-compilers.ts): left out of the bundle.
      external: ['@electric-sql/pglite', 'pg-native', 'esbuild', 'ajv', 'ajv-formats', 'fast-json-stringify', ...FASTIFY_COMPILERS],
      // Bundled CommonJS (pg, pg-boss, fastify) calls require() for Node's own modules.
      banner: { js: "import { createRequire as __mdlRequire } from 'node:module'; const require = __mdlRequire(import.meta.url);" },
    });
    renameSync(`${tmp}.map`, `${platformBundle}.map`);
    renameSync(tmp, platformBundle);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return true;
}

/** The workspace package @mdl/protocol from its TypeScript sources, so a fresh clone needs no tsc build first. */
const protocolFromSources = {
  name: 'mdl-protocol-sources',
  setup(build) {
    const entries = { '@mdl/protocol': 'index.ts', '@mdl/protocol/openapi': 'openapi/index.ts', '@mdl/protocol/cli': 'cli.ts' };
    build.onResolve({ filter: /^@mdl\/protocol(\/|$)/ }, (args) => {
      const file = entries[args.path];
      if (file) return { path: join(root, 'packages/protocol/src', file) };
      if (args.path === '@mdl/protocol/package.json') return { path: join(root, 'packages/protocol/package.json') };
      return { errors: [{ text: `${args.path} is not exported by @mdl/protocol` }] };
    });
  },
};

// `node bin/bundle.js`: build it now (npm run build does, so that an installation pruned of dev dependencies has it).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!(await ensurePlatformBundle())) {
    process.stderr.write('esbuild is not installed: the platform CLI will run from the compiled files\n');
  }
}
