// Finds circular dependencies between the files of the crate: file A depends on file B when a `use`
// or a path in A's code (`crate::…`, `super::…`, `self::…`, `$crate::…`) names B's module or an item
// of it. A path is followed module by module, and through a module's re-exports (`pub use child::X`),
// to the file that defines what it names; declaring a child module (`mod x;`) and re-exporting from it
// are not dependencies of their own. Inline modules (`mod tests { … }`) count as their file.
//
// Usage: node scripts/check-circles.mjs [SRC_DIR] [--allow a.rs,b.rs ...]
//   Prints every circle (as the files in order) and exits 1 if there is one not allowed. A circle is
//   allowed when `--allow` lists all of its files (a known exception being removed elsewhere).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const args = process.argv.slice(2);
let root = 'src';
const allowed = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--allow') allowed.push(new Set(args[++i].split(',')));
    else root = args[i];
}

// Module path (array of names) <-> file.
const files = [];
(function walk(dir) {
    for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.rs')) files.push(path);
    }
})(root);

const moduleOf = new Map(); // file -> module path
const fileOf = new Map(); // "a::b" -> file
for (const file of files) {
    const parts = relative(root, file).split(sep);
    const last = parts.pop().replace(/\.rs$/, '');
    if (!(parts.length === 0 && (last === 'lib' || last === 'main')) && last !== 'mod') parts.push(last);
    moduleOf.set(file, parts);
    fileOf.set(parts.join('::'), file);
}

// Source without comments, strings and char literals (kept the same length, so offsets stay).
function strip(text) {
    return text
        .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
        .replace(/"(?:\\.|[^"\\])*"/g, (m) => m.replace(/[^\n]/g, ' '))
        .replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
}

// Expands a use tree ("a::{b, c::{d, e}}") into full paths.
function expand(tree) {
    tree = tree.replace(/\s+/g, '');
    const brace = tree.indexOf('{');
    if (brace < 0) return [tree.replace(/::$/, '')];
    const prefix = tree.slice(0, brace);
    const inner = tree.slice(brace + 1, tree.lastIndexOf('}'));
    const out = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i <= inner.length; i++) {
        const c = inner[i];
        if (c === '{') depth++;
        else if (c === '}') depth--;
        else if ((c === ',' || i === inner.length) && depth === 0) {
            const part = inner.slice(start, i);
            if (part) for (const p of expand(part)) out.push(p === 'self' ? prefix.replace(/::$/, '') : prefix + p);
            start = i + 1;
        }
    }
    return out;
}

// Per file: its re-exports (name -> path) and the paths it uses, each with the module it is relative to.
const reexports = new Map(); // file -> Map(name -> [base module, path])
const uses = new Map(); // file -> [[base module, path]]
for (const file of files) {
    const text = strip(readFileSync(file, 'utf8'));
    const module = moduleOf.get(file);
    // Inline modules: [start, end] ranges, for how deep `super` starts.
    const inline = [];
    for (const m of text.matchAll(/\bmod\s+\w+\s*\{/g)) {
        let depth = 0;
        let i = m.index + m[0].length - 1;
        for (; i < text.length; i++) {
            if (text[i] === '{') depth++;
            else if (text[i] === '}' && --depth === 0) break;
        }
        inline.push([m.index, i]);
    }
    const depthAt = (at) => inline.filter(([s, e]) => s < at && at < e).length;
    const re = new Map();
    const used = [];
    const useRanges = [];
    for (const m of text.matchAll(/\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);/g)) {
        useRanges.push([m.index, m.index + m[0].length]);
        const isReexport = Boolean(m[1]);
        for (const path of expand(m[2])) {
            const [full, alias] = path.split(/\s*as\s*/);
            const entry = [module, full, depthAt(m.index)];
            if (isReexport && !/^(crate|super|self)\b/.test(full) && !full.includes('::*')) {
                // `pub use child::X` in a module: a re-export from a child module, followed by paths.
                const name = alias ?? full.split('::').pop();
                if (fileOf.has([...module, full.split('::')[0]].join('::'))) {
                    re.set(name, entry);
                    continue;
                }
            }
            if (isReexport && /^(crate|super|self)\b/.test(full)) {
                re.set(alias ?? full.split('::').pop(), entry);
            }
            used.push(entry);
        }
    }
    for (const m of text.matchAll(/(?:\$crate|\bcrate|\bsuper|\bself)(?:::[A-Za-z_]\w*)+/g)) {
        if (useRanges.some(([s, e]) => s <= m.index && m.index < e)) continue;
        used.push([module, m[0].replace(/^\$crate/, 'crate'), depthAt(m.index)]);
    }
    reexports.set(file, re);
    uses.set(file, used);
}

// The file a path leads to, or null (another crate, an unknown form).
function resolve(base, path, inlineDepth, seen = new Set()) {
    let segs = path.split('::').filter((s) => s !== '*');
    let mod;
    if (segs[0] === 'crate') {
        mod = [];
        segs = segs.slice(1);
    } else if (segs[0] === 'self' || segs[0] === 'super') {
        mod = [...base];
        let d = inlineDepth;
        while (segs[0] === 'self' || segs[0] === 'super') {
            if (segs[0] === 'super') {
                if (d > 0) d--;
                else mod.pop();
            }
            segs = segs.slice(1);
        }
    } else {
        // Relative to the file's module: a child module (`use child::X` in a mod.rs).
        mod = [...base];
        if (!fileOf.has([...mod, segs[0]].join('::'))) return null;
    }
    for (const seg of segs) {
        const child = [...mod, seg];
        if (fileOf.has(child.join('::'))) {
            mod = child;
            continue;
        }
        // An item of `mod`: followed through a re-export if it is one.
        const file = fileOf.get(mod.join('::'));
        const re = reexports.get(file)?.get(seg);
        const key = `${file}:${seg}`;
        if (re && !seen.has(key)) {
            seen.add(key);
            return resolve(re[0], re[1], re[2], seen) ?? file;
        }
        return file;
    }
    return fileOf.get(mod.join('::')) ?? null;
}

const edges = new Map(); // file -> Set(file)
for (const [file, list] of uses) {
    const set = new Set();
    for (const [base, path, depth] of list) {
        const target = resolve(base, path, depth);
        if (target && target !== file) set.add(target);
    }
    edges.set(file, set);
}

// Strongly connected components (Tarjan): every component of more than one file is a circle.
let index = 0;
const stack = [];
const state = new Map();
const components = [];
function connect(v) {
    state.set(v, { index, low: index, on: true });
    index++;
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
        if (!state.has(w)) {
            connect(w);
            state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
        } else if (state.get(w).on) {
            state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
        }
    }
    if (state.get(v).low === state.get(v).index) {
        const component = [];
        let w;
        do {
            w = stack.pop();
            state.get(w).on = false;
            component.push(w);
        } while (w !== v);
        if (component.length > 1) components.push(component.sort());
    }
}
for (const file of files.sort()) if (!state.has(file)) connect(file);

const short = (f) => relative(root, f).split(sep).join('/');
let failed = 0;
for (const component of components) {
    const names = component.map(short);
    const ok = allowed.some((set) => names.every((n) => set.has(n)));
    // One circle through the component, for the message: a path from its first file back to it.
    const members = new Set(component);
    const path = [component[0]];
    const prev = new Map([[component[0], null]]);
    const queue = [component[0]];
    let closing = null;
    while (queue.length && !closing) {
        const v = queue.shift();
        for (const w of edges.get(v)) {
            if (!members.has(w)) continue;
            if (w === component[0]) {
                closing = v;
                break;
            }
            if (!prev.has(w)) {
                prev.set(w, v);
                queue.push(w);
            }
        }
    }
    path.length = 0;
    for (let v = closing; v !== null; v = prev.get(v)) path.unshift(v);
    path.push(component[0]);
    console.log(`${ok ? 'known circle (allowed)' : 'circle'}: ${path.map(short).join(' -> ')}` +
        (component.length > path.length - 1 ? `  (files in it: ${names.join(', ')})` : ''));
    if (!ok) failed++;
}
console.log(`${files.length} files, ${components.length} circle(s), ${failed} not allowed`);
process.exit(failed ? 1 : 0);
