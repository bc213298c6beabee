// Compiles the doc examples of the wasm32-only code for wasm32, which `cargo test --doc` never does:
// the crate's doc tests do not build for wasm32 (its dev-dependencies do not), and these examples
// need a browser page or worker to run, so they are `no_run`. Each example becomes a function of a
// scratch crate in target/wasm-examples that depends on omnibuf (with the `testing` feature, whose
// wasm32 test aids have examples too); `cargo check` of that crate for
// wasm32 (in the crate's target directory) fails on an example that no longer compiles.
//
// Usage: node scripts/check-wasm-examples.mjs   (from the repository root or anywhere in it)
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The wasm32-only files with public items: the browser's stores and the IndexedDB-backed buffer.
// (The JS classes, src/wasm, are not public in Rust; js/index.d.ts documents them.)
const sources = ['src/platform/wasm', 'src/vbuf/stored.rs'];

function rustFiles(path) {
    const full = join(root, path);
    if (!statSync(full).isDirectory()) return [path];
    return readdirSync(full).flatMap((name) => rustFiles(join(path, name))).filter((f) => f.endsWith('.rs'));
}

// The code blocks of `///` and `//!` comments, with the line each starts on.
function examples(file) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    const found = [];
    let block = null;
    lines.forEach((line, i) => {
        const doc = /^\s*\/\/[/!] ?(.*)$/.exec(line);
        if (!doc) {
            block = null;
            return;
        }
        const text = doc[1];
        const fence = /^```(.*)$/.exec(text.trim());
        if (fence && block === null) {
            const lang = fence[1].trim();
            block = { line: i + 1, rust: ['', 'rust', 'no_run', 'should_panic'].includes(lang), body: [] };
        } else if (fence) {
            if (block.rust) found.push(block);
            block = null;
        } else if (block) {
            // Hidden lines (`# code`) are code too; a lone `#` is an empty line.
            block.body.push(text.replace(/^(\s*)# ?/, '$1').replace(/^\s*#$/, ''));
        }
    });
    return found;
}

const functions = [];
for (const file of sources.flatMap(rustFiles).sort()) {
    for (const example of examples(file)) {
        const name = `example_${functions.length}`;
        const head = `// ${file}:${example.line}\n#[allow(unused, clippy::all)]\nfn ${name}() {\n`;
        functions.push(`${head}${example.body.join('\n')}\n}\n`);
    }
}

const crate = join(root, 'target', 'wasm-examples');
mkdirSync(join(crate, 'src'), { recursive: true });
const manifest = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const version = (name) => new RegExp(`^${name} = "([^"]+)"`, 'm').exec(manifest)?.[1] ?? '*';
writeFileSync(
    join(crate, 'Cargo.toml'),
    `[package]
name = "wasm-examples"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
omnibuf = { path = "${relative(crate, root).replaceAll('\\', '/')}", features = ["testing"] }
wasm-bindgen = "${version('wasm-bindgen')}"
wasm-bindgen-futures = "${version('wasm-bindgen-futures')}"
js-sys = "${version('js-sys')}"
web-sys = { version = "0.3", features = ["Blob", "File"] }

[workspace]
`,
);
// The same versions as the crate's own build (wasm-bindgen must match its CLI).
copyFileSync(join(root, 'Cargo.lock'), join(crate, 'Cargo.lock'));
writeFileSync(join(crate, 'src', 'lib.rs'), functions.join('\n'));
console.log(`${functions.length} wasm32 doc examples, compiled in ${relative(root, crate)}`);
try {
    execFileSync('cargo', ['check', '--quiet', '--target', 'wasm32-unknown-unknown'], {
        cwd: crate,
        stdio: 'inherit',
        env: { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR ?? join(root, 'target') },
    });
} catch {
    console.error('a wasm32 doc example does not compile (the comment above its function names it)');
    process.exit(1);
}
