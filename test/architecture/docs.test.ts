/**
 * The contract lives in the repository: comments in src/ and test/ cite the project's own
 * documents (docs/api.md, docs/interop.md and the other pages under docs/), never a file
 * outside the repository or a numbered section of a document this repository does not have.
 * Every anchor cited must exist, and the policy tables of docs/api.md must match the
 * registered defaults.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICY_DEFAULTS } from '../../src/policy/defaults.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = join(ROOT, 'docs');

const TEXT_FILE = /\.(?:ts|tsx|js|mjs|cjs|py|sh|sql|json|ya?ml|md|html|css|tmpl|txt|ini|conf)$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return TEXT_FILE.test(name) ? [p] : [];
  });
}

interface Line {
  file: string;
  line: number;
  text: string;
}

const linesOf = (f: string): Line[] =>
  readFileSync(f, 'utf8')
    .split('\n')
    .map((text, i) => ({ file: relative(ROOT, f), line: i + 1, text }));

/** src/ and test/, and the top-level documents that describe them. */
const sourceLines: Line[] = [
  ...['src', 'test'].flatMap((top) => files(join(ROOT, top))),
  ...['README.md', 'ARCHITECTURE.md', 'BENCHMARKS.md'].map((name) => join(ROOT, name)).filter(existsSync),
].flatMap(linesOf);

const where = (l: Line) => `${l.file}:${l.line}: ${l.text.trim()}`;

// Built from pieces so that this file does not match its own patterns.
const SECTION_SIGN = String.fromCharCode(0xa7);
/** The two specification file names without the `docs/` in front: the shared copy, not ours. */
const FOREIGN_DOC = /(?<![\w/.-])(?:api|interop)\.md\b/;
/** Paths that only exist next to the repository, never in a clone of it. */
const OUTSIDE_PATHS = ['..' + '/shared', '/work' + '/shared'];

/**
 * GitHub's heading anchor: the heading's text without its markup, lower-cased, everything
 * but letters, digits, spaces, `-` and `_` dropped, spaces turned into `-`; a repeated
 * heading gets `-1`, `-2` … appended.
 */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images → their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*]/g, ''); // code spans, emphasis
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file offers: heading slugs and explicit `<a id="…">` / `<a name="…">`. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const slug = githubSlug(h[1]!);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string> | null>();
function docAnchors(path: string): Set<string> | null {
  if (!anchorCache.has(path)) anchorCache.set(path, existsSync(path) ? anchorsOf(readFileSync(path, 'utf8')) : null);
  return anchorCache.get(path)!;
}

describe('githubSlug', () => {
  it('follows GitHub', () => {
    expect(githubSlug('Capacity and free slots')).toBe('capacity-and-free-slots');
    expect(githubSlug('Availability — `GET /v1/availability/`')).toBe('availability--get-v1availability');
    expect(githubSlug('Token cache: what revocation means')).toBe('token-cache-what-revocation-means');
    expect(githubSlug('The bot — `[warre] bot_*`')).toBe('the-bot--warre-bot_');
    expect(githubSlug('Several instances **[beyond]**')).toBe('several-instances-beyond');
  });

  it('numbers repeated headings and reads explicit anchors', () => {
    const a = anchorsOf('# A\n## Tests\n```\n# not a heading\n```\n## Tests\n<a id="x-y"></a>\n');
    expect([...a].sort()).toEqual(['a', 'tests', 'tests-1', 'x-y']);
  });
});

describe('citations in src/, test/, README, ARCHITECTURE', () => {
  it('cite no numbered section of a document outside the repository', () => {
    const offenders = sourceLines.filter((l) => FOREIGN_DOC.test(l.text) || (l.text.includes(SECTION_SIGN) && !/\bRFC\s?\d+/.test(l.text)));
    expect(offenders.map(where)).toEqual([]);
  });

  it('name no path outside the repository', () => {
    const offenders = sourceLines.filter((l) => OUTSIDE_PATHS.some((p) => l.text.includes(p)));
    expect(offenders.map(where)).toEqual([]);
  });

  it('point at anchors that exist in docs/', () => {
    const cited = sourceLines.flatMap((l) =>
      [...l.text.matchAll(/\bdocs\/([\w.-]+\.md)#([\w-]+)/g)].map((m) => ({ at: l, file: m[1]!, anchor: m[2]! })),
    );
    expect(cited.length).toBeGreaterThan(50);
    const broken = cited
      .filter((c) => {
        const anchors = docAnchors(join(DOCS, c.file));
        return anchors === null || !anchors.has(c.anchor);
      })
      .map((c) => `docs/${c.file}#${c.anchor} (${where(c.at)})`);
    expect(broken).toEqual([]);
  });
});

describe('docs/', () => {
  it('links between the pages resolve, anchors included', () => {
    const broken: string[] = [];
    for (const name of readdirSync(DOCS).filter((n) => n.endsWith('.md'))) {
      const text = readFileSync(join(DOCS, name), 'utf8');
      for (const m of text.matchAll(/\]\(((?:[\w.-]+\.md)?)(?:#([\w-]+))?\)/g)) {
        const target = m[1] || name;
        const anchor = m[2];
        if (!m[1] && !anchor) continue;
        const anchors = docAnchors(join(DOCS, target));
        if (anchors === null) broken.push(`${name}: ${m[0]} (no docs/${target})`);
        else if (anchor && !anchors.has(anchor)) broken.push(`${name}: ${m[0]} (no anchor #${anchor} in docs/${target})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('docs/api.md lists every registered policy rule with its default check', () => {
    const api = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const m of api.matchAll(/^\| `([\w:]+)` \| (`[^`]*`|\(empty\)) \|/gm)) rows.set(m[1]!, m[2]!);
    const mismatched = POLICY_DEFAULTS.filter((d) => rows.get(d.name) !== (d.check === '' ? '(empty)' : `\`${d.check}\``)).map(
      (d) => `${d.name}: registered "${d.check}", docs/api.md ${rows.has(d.name) ? `"${rows.get(d.name)}"` : 'has no row'}`,
    );
    const unknown = [...rows.keys()].filter((name) => !POLICY_DEFAULTS.some((d) => d.name === name));
    expect(mismatched).toEqual([]);
    expect(unknown).toEqual([]);
  });
});
