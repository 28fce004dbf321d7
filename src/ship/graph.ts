// How components are wired: unknown inputs, cycles, fallbacks, dangling sinks. Pure, no I/O.

export interface GraphProblem { path: Array<string | number>; message: string }

export interface GraphShape {
  sources: Record<string, unknown>;
  transforms: Record<string, { inputs: readonly string[] }>;
  sinks: Record<string, { inputs: readonly string[]; fallback?: string | undefined }>;
}

/** Everything wrong with how components are wired: unknown inputs, cycles, bad fallbacks, dangling sinks. */
export function graphProblems(config: GraphShape): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const kinds = new Map<string, string>();
  for (const kind of ['sources', 'transforms', 'sinks'] as const) {
    for (const name of Object.keys(config[kind])) {
      const other = kinds.get(name);
      if (other !== undefined) problems.push({ path: [kind, name], message: `the name "${name}" is also used in [${other}]: names must be unique` });
      else kinds.set(name, kind);
    }
  }
  if (Object.keys(config.sources).length === 0) problems.push({ path: ['sources'], message: 'needs at least one source ([sources.<name>])' });
  if (Object.keys(config.sinks).length === 0) problems.push({ path: ['sinks'], message: 'needs at least one sink ([sinks.<name>])' });
  const checkInputs = (kind: 'transforms' | 'sinks', name: string, inputs: readonly string[]): void => {
    inputs.forEach((input, i) => {
      const of = kinds.get(input);
      if (of === undefined) problems.push({ path: [kind, name, 'inputs', i], message: `unknown input "${input}" (known: ${upstreamNames(config).join(', ') || 'none'})` });
      else if (of === 'sinks') problems.push({ path: [kind, name, 'inputs', i], message: `input "${input}" is a sink; inputs are sources or transforms` });
      else if (input === name) problems.push({ path: [kind, name, 'inputs', i], message: 'a component cannot be its own input' });
    });
  };
  for (const [name, t] of Object.entries(config.transforms)) checkInputs('transforms', name, t.inputs);
  for (const [name, s] of Object.entries(config.sinks)) checkInputs('sinks', name, s.inputs);
  const cycle = findCycle(config.transforms);
  if (cycle) problems.push({ path: ['transforms', cycle[0] as string, 'inputs'], message: `cycle in inputs: ${cycle.join(' -> ')}` });

  const fallbackOf = new Set<string>();
  for (const [name, s] of Object.entries(config.sinks)) {
    if (s.fallback === undefined) continue;
    if (s.fallback === name) problems.push({ path: ['sinks', name, 'fallback'], message: 'a sink cannot be its own fallback' });
    else if (!(s.fallback in config.sinks)) problems.push({ path: ['sinks', name, 'fallback'], message: `unknown fallback sink "${s.fallback}" (sinks: ${Object.keys(config.sinks).join(', ')})` });
    else fallbackOf.add(s.fallback);
  }
  // Fallback chains must end: a -> b -> a would hand a batch around forever.
  for (const name of Object.keys(config.sinks)) {
    const seen = [name];
    let next = config.sinks[name]?.fallback;
    while (next !== undefined && next in config.sinks) {
      if (seen.includes(next)) {
        if (next === name && seen.length > 1) problems.push({ path: ['sinks', name, 'fallback'], message: `fallback cycle: ${[...seen, next].join(' -> ')}` });
        break;
      }
      seen.push(next);
      next = config.sinks[next]?.fallback;
    }
  }
  for (const [name, s] of Object.entries(config.sinks)) {
    if (s.inputs.length === 0 && !fallbackOf.has(name)) {
      problems.push({ path: ['sinks', name, 'inputs'], message: 'has no inputs and is no sink\'s fallback: it would never receive anything' });
    }
  }
  return problems;
}

function upstreamNames(config: GraphShape): string[] {
  return [...Object.keys(config.sources), ...Object.keys(config.transforms)];
}

/** A cycle among transforms as a path of names (first repeated at the end), or undefined. */
function findCycle(transforms: Record<string, { inputs: readonly string[] }>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const input of transforms[name]?.inputs ?? []) {
      if (input !== name && input in transforms) {
        const found = visit(input);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(transforms)) {
    const found = visit(name);
    if (found) return found;
  }
  return undefined;
}

/** Names of components that lead to no sink (worth a warning, not an error). */
export function deadEnds(config: GraphShape): string[] {
  const feeds = new Set<string>();
  const mark = (name: string): void => {
    if (feeds.has(name)) return;
    feeds.add(name);
    for (const input of config.transforms[name]?.inputs ?? []) mark(input);
  };
  for (const s of Object.values(config.sinks)) for (const input of s.inputs) mark(input);
  return upstreamNames(config).filter((n) => !feeds.has(n));
}
