import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The README's rule for src/: dependencies point one way (cli → commands → core → the pure and
 * platform modules) and form no cycle. Imports are read by TypeScript's own pre-processor, so a
 * dynamic `import()` counts as well as a static one.
 */

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Module (path below src/, with .ts) → the modules of src/ it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map(({ fileName }) => fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(SRC, resolve(dirname(file), name)).replace(/\.js$/, '.ts'));
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/**
 * Each module's layer; a module may import only from a lower layer or its own, and a layer's modules
 * only from lower layers' or their own folder. Listed from the top.
 */
const LAYERS: readonly { name: string; members: (module: string) => boolean }[] = [
  {
    name: 'cli',
    members: (m) => m.startsWith('cli/') && !m.startsWith('cli/commands/') && m !== 'cli/run.ts',
  },
  { name: 'commands', members: (m) => m.startsWith('cli/commands/') },
  // What the command layer is handed by the cli layer: types of the one run.
  { name: 'command interface', members: (m) => m === 'cli/run.ts' },
  { name: 'library', members: (m) => ['index.ts', 'obtain.ts', 'provider.ts'].includes(m) },
  {
    name: 'features',
    members: (m) => ['config/', 'doctor/', 'templates/'].some((folder) => m.startsWith(folder)),
  },
  {
    name: 'core',
    members: (m) => ['cache/', 'sts/', 'token/', 'output/', 'policy/'].some((folder) => m.startsWith(folder)),
  },
  { name: 'platform and AWS facts', members: (m) => m.startsWith('platform/') || m.startsWith('aws/') },
  { name: 'leaves', members: (m) => !m.includes('/') },
];

function layerOf(module: string): number {
  const index = LAYERS.findIndex((layer) => layer.members(module));
  if (index < 0) throw new Error(`${module} is in no layer`);
  return index;
}

function folderOf(module: string): string {
  return module.includes('/') ? dirname(module) : '';
}

/** The strongly connected components with more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('the dependencies of src/', () => {
  const graph = importGraph();

  it('reads every module and its imports', () => {
    // The graph itself is checked: the modules the tests below rely on are there, with imports.
    expect(graph.get('cli/main.ts')?.length ?? 0).toBeGreaterThan(0);
    expect(graph.get('obtain.ts')).toContain('sts/exchange.ts');
    expect(graph.get('cli/program.ts')).toContain('cli/commands/doctor.ts');
    for (const [module, targets] of graph) {
      for (const target of targets) expect(graph.has(target), `${module} imports ${target}`).toBe(true);
    }
  });

  it('point one way: no module imports from a layer above its own', () => {
    const upward = [...graph].flatMap(([module, targets]) =>
      targets
        .filter((target) => layerOf(target) < layerOf(module))
        .map(
          (target) =>
            `${module} (${LAYERS[layerOf(module)]?.name}) imports ${target} (${LAYERS[layerOf(target)]?.name})`,
        ),
    );
    expect(upward).toEqual([]);
  });

  it('form no cycle, between modules or between the folders of one layer', () => {
    expect(cycles(graph)).toEqual([]);
    // Between folders, only imports inside one layer can close a cycle the layers do not forbid.
    const folders = new Map<string, string[]>();
    for (const [module, targets] of graph) {
      const from = folderOf(module);
      const to = targets
        .filter((target) => layerOf(target) === layerOf(module))
        .map(folderOf)
        .filter((folder) => folder !== from);
      folders.set(from, [...new Set([...(folders.get(from) ?? []), ...to])]);
    }
    expect(cycles(folders)).toEqual([]);
  });

  it('the checks above do fail on an upward import and on a cycle', () => {
    expect(layerOf('platform/files.ts')).toBeGreaterThan(layerOf('obtain.ts'));
    expect(
      cycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['c.ts']],
          ['c.ts', ['a.ts']],
          ['d.ts', ['a.ts']],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
