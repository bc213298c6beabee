// Counts the public items of the omnibuf crate from rustdoc's JSON output (scripts/count-public.sh
// makes it). Usage: node scripts/public-items.mjs target/doc/omnibuf.json
//
// An item counts when a user of the crate can name it: the walk starts at the crate root and follows
// public modules and re-exports (`pub use`, globs included). Counted: modules, structs, enums and their
// variants, unions, traits and their items, functions, constants, statics, type aliases, macros, public
// struct fields, and the items of inherent impls (methods, associated constants). Not counted: the
// items of trait impls (they implement a trait, they add no name), re-exports themselves, items of other
// crates. An item reachable by several paths counts once, under the top-level public module a user finds
// it in (`omnibuf::vbuf::…` counts under `vbuf` wherever it is defined); items that only the crate root
// re-exports count under `(root)`.
//
// The JSON should be built with `--document-hidden-items`: items under `#[doc(hidden)]` are still public
// (a user can name them), so they are counted, in a column of their own.
import { readFileSync } from 'node:fs';

const path = process.argv[2];
if (!path) {
    console.error('usage: node scripts/public-items.mjs CRATE.json');
    process.exit(2);
}
const doc = JSON.parse(readFileSync(path, 'utf8'));
const index = doc.index;

const isHidden = (item) =>
    item.attrs.some((a) => typeof a === 'object' && a.other !== undefined && /^#\[doc\(hidden\)\]$/.test(a.other));

const counted = new Map(); // id -> { module, hidden, kind, name }
const methods = new Set(); // ids of the items of inherent impls and traits
const seen = new Set(); // "id/hidden" pairs already walked

function count(item, hidden, kind, top) {
    const prev = counted.get(item.id);
    // Reachable without doc(hidden) anywhere wins over reachable only through hidden items.
    if (prev && (!prev.hidden || hidden)) return;
    counted.set(item.id, { module: top, hidden, kind, name: item.name });
}

const isModule = (id) => {
    const item = index[id];
    if (!item) return false;
    if (item.inner.module) return true;
    const target = item.inner.use && index[item.inner.use.id];
    return Boolean(target && target.inner.module);
};

function visit(id, hiddenAbove, top) {
    const item = index[id];
    if (!item || item.crate_id !== 0) return;
    const hidden = hiddenAbove || isHidden(item);
    const key = `${id}/${hidden}`;
    if (seen.has(key)) return;
    seen.add(key);
    const [kind, inner] = Object.entries(item.inner)[0];
    switch (kind) {
        case 'module':
            if (inner.is_crate) {
                // The modules first, so that what both a module and the root offer counts under the
                // module.
                const children = [...inner.items.filter(isModule), ...inner.items.filter((c) => !isModule(c))];
                for (const child of children) {
                    const c = index[child];
                    visit(child, hidden, isModule(child) ? (c.name ?? c.inner.use?.name) : '(root)');
                }
            } else {
                count(item, hidden, kind, top);
                for (const child of inner.items) visit(child, hidden, top);
            }
            break;
        case 'use':
            if (inner.id === null || inner.id === undefined) break;
            if (inner.is_glob) {
                const target = index[inner.id];
                if (target && target.crate_id === 0 && target.inner.module) {
                    for (const child of target.inner.module.items) visit(child, hidden, top);
                } else if (target && target.crate_id === 0 && target.inner.enum) {
                    for (const v of target.inner.enum.variants) visit(v, hidden, top);
                }
            } else {
                visit(inner.id, hidden, top);
            }
            break;
        case 'struct':
        case 'union': {
            count(item, hidden, kind, top);
            const k = inner.kind ?? {};
            const fields = inner.fields ?? k.plain?.fields ?? (Array.isArray(k.tuple) ? k.tuple : []);
            for (const f of fields) if (f !== null) visit(f, hidden, top);
            for (const i of inner.impls) visitImpl(i, hidden, top);
            break;
        }
        case 'enum':
            count(item, hidden, kind, top);
            for (const v of inner.variants) visit(v, hidden, top);
            for (const i of inner.impls) visitImpl(i, hidden, top);
            break;
        case 'trait':
            count(item, hidden, kind, top);
            for (const child of inner.items) {
                methods.add(child);
                visit(child, hidden, top);
            }
            break;
        case 'variant':
        case 'struct_field':
        case 'function':
        case 'constant':
        case 'static':
        case 'type_alias':
        case 'macro':
        case 'proc_macro':
        case 'assoc_const':
        case 'assoc_type':
        case 'trait_alias':
            count(item, hidden, kind, top);
            break;
        default:
            break;
    }
}

function visitImpl(id, hidden, top) {
    const item = index[id];
    if (!item || !item.inner.impl) return;
    const impl = item.inner.impl;
    if (impl.trait !== null || impl.is_synthetic || impl.blanket_impl) return;
    const h = hidden || isHidden(item);
    for (const child of impl.items) {
        methods.add(child);
        visit(child, h, top);
    }
}

visit(doc.root, false, '(root)');

const rows = new Map();
for (const { module, hidden } of counted.values()) {
    const row = rows.get(module) ?? { shown: 0, hidden: 0 };
    row[hidden ? 'hidden' : 'shown'] += 1;
    rows.set(module, row);
}
const names = [...rows.keys()].sort();
let shown = 0;
let hidden = 0;
console.log(`${'module'.padEnd(12)} ${'public'.padStart(7)} ${'of which doc(hidden)'.padStart(21)}`);
for (const name of names) {
    const r = rows.get(name);
    shown += r.shown;
    hidden += r.hidden;
    console.log(`${name.padEnd(12)} ${String(r.shown + r.hidden).padStart(7)} ${String(r.hidden).padStart(21)}`);
}
console.log(`${'total'.padEnd(12)} ${String(shown + hidden).padStart(7)} ${String(hidden).padStart(21)}`);
// Examples (a ``` block in the item's own docs): every public type, trait, free function and method
// (the items of inherent impls and of traits) must have one; CHECK_EXAMPLES=1 fails otherwise and
// lists what lacks one. doc(hidden) items are left out.
const wantsExample = new Set(['function', 'struct', 'enum', 'union', 'trait']);
const hasExample = (id) => (index[id].docs ?? '').includes('```');
const visible = [...counted.entries()].filter(([id, c]) => !c.hidden && wantsExample.has(c.kind));
const items = visible.filter(([id]) => !methods.has(id));
const methodItems = visible.filter(([id]) => methods.has(id));
const missing = items.filter(([id]) => !hasExample(id));
const missingMethods = methodItems.filter(([id]) => !hasExample(id));
console.log(
    `examples: ${items.length - missing.length} of ${items.length} types, traits and free functions; ` +
        `${methodItems.length - missingMethods.length} of ${methodItems.length} methods`,
);
const where = (id) => {
    const span = index[id].span;
    return `${span?.filename}:${span?.begin?.[0]}`;
};
for (const [id, c] of missing) console.log(`  no example: ${c.module} ${c.kind} ${c.name} (${where(id)})`);
for (const [id, c] of missingMethods) {
    console.log(`  method without example: ${c.module} ${c.name} (${where(id)})`);
}
if (process.env.CHECK_EXAMPLES === '1' && missing.length + missingMethods.length > 0) process.exitCode = 1;
if (process.env.LIST === '1') {
    const list = [...counted.values()].map((c) => `${c.module}\t${c.kind}\t${c.name}${c.hidden ? '\t(hidden)' : ''}`);
    console.log(list.sort().join('\n'));
}
