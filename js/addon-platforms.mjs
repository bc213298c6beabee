// The platforms that have a prebuilt addon package, and how a process names its own platform. Shared
// by the loader (js/addon-loader.mjs) and the packing script (scripts/pack.mjs); no side effects.

/** Every platform with a prebuilt package: its id (the package is `omnibuf-<id>`), npm's `os`, `cpu`
 * and `libc` values, and the Rust target it is built for. */
export const PLATFORMS = [
  { id: 'linux-x64-gnu', os: 'linux', cpu: 'x64', libc: 'glibc', target: 'x86_64-unknown-linux-gnu' },
  { id: 'linux-arm64-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc', target: 'aarch64-unknown-linux-gnu' },
  { id: 'linux-x64-musl', os: 'linux', cpu: 'x64', libc: 'musl', target: 'x86_64-unknown-linux-musl' },
  { id: 'linux-arm64-musl', os: 'linux', cpu: 'arm64', libc: 'musl', target: 'aarch64-unknown-linux-musl' },
  { id: 'darwin-x64', os: 'darwin', cpu: 'x64', target: 'x86_64-apple-darwin' },
  { id: 'darwin-arm64', os: 'darwin', cpu: 'arm64', target: 'aarch64-apple-darwin' },
  { id: 'win32-x64', os: 'win32', cpu: 'x64', target: 'x86_64-pc-windows-gnu' },
];

/** The name of the prebuilt package for a platform id. */
export const platformPackage = (id) => `omnibuf-${id}`;

/** The addon file inside a prebuilt package. */
export const platformBinary = (id) => `omnibuf.${id}.node`;

/** The C library this Linux process runs on: 'glibc' or 'musl' (npm's `libc` values). Node's report
 * header names the glibc version when Node itself runs on glibc, and nothing on musl. */
function linuxLibc() {
  const { report } = process;
  // Without the network section, which can wait on name lookups; the process's own setting is restored.
  const excludeNetwork = report.excludeNetwork;
  report.excludeNetwork = true;
  let header;
  try {
    const got = report.getReport();
    header = typeof got === 'string' ? JSON.parse(got).header : got.header;
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
  return header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The id this process's platform would have (whether or not one is prebuilt), e.g. linux-x64-gnu. */
export function currentPlatformId() {
  const { platform, arch } = process;
  if (platform !== 'linux') return `${platform}-${arch}`;
  return `${platform}-${arch}-${linuxLibc() === 'glibc' ? 'gnu' : 'musl'}`;
}
