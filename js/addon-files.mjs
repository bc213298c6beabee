// The addon's VirtualBuffer takes file paths as Node's fs does, where the addon's own file I/O would
// otherwise differ from it:
// - A path may be a `file:` URL (`new URL('./notes.txt', import.meta.url)`), made a path as fs makes
//   it (url.fileURLToPath, whose TypeErrors fs gives too).
// - Windows: a path goes to the system as fs passes it there, absolute and with the `\\?\` prefix
//   (path.toNamespacedPath), so that a name ending in a dot or a space, or a device's name (`NUL`,
//   `aux.txt`), names the file fs names rather than what Win32's own rules make of it (which drop
//   the dot, or open the device). toNamespacedPath() resolves the path first, and gives anything
//   else (not a string, an empty one) back as it is, for the addon's own TypeError.
// - Node's permission model (`--permission`; Node 20's `--experimental-permission`): it loads an
//   addon only with `--allow-addons`, and the addon's file I/O is outside its checks. So the members
//   that touch files check what fs would, and reject with fs's own error (ERR_ACCESS_DENIED, with
//   `permission` and `resource`): open() needs read access to the file; save() and saveAs() need
//   write access to the file and to its directory, where a save writes the new version before it
//   replaces the file.
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';

/** Wraps open(), save() and saveAs() of the exported VirtualBuffer class (whose static members are
 * its own) to take paths as fs does. */
export function takePathsAsFs(VirtualBuffer) {
  const { open } = VirtualBuffer;
  const { save, saveAs } = VirtualBuffer.prototype;
  // Taken once, as the other built-ins this package calls (js/abort-signal.mjs): a program that
  // replaces it later does not switch the checks off.
  const may = process.permission === undefined ? undefined : process.permission.has.bind(process.permission);
  // The file each buffer saves to, once open() or saveAs() has given it one, for save()'s check:
  // absolute, as the addon fixes it at that call (a later chdir() moves nothing). A buffer made from
  // bytes has none.
  const files = new WeakMap();
  const toSystem = process.platform === 'win32' ? nodePath.toNamespacedPath : (path) => path;
  define(VirtualBuffer, {
    async open(path, ...rest) {
      path = fromURL(path);
      const checked = may !== undefined && isPath(path);
      if (checked && !may('fs.read', path)) throw denied('FileSystemRead', 'read', path);
      const buffer = await Reflect.apply(open, this, [toSystem(path), ...rest]);
      if (checked) files.set(buffer, nodePath.resolve(path));
      return buffer;
    },
  });
  define(VirtualBuffer.prototype, {
    async save(...args) {
      // The file the buffer has now: a save() called while a saveAs() runs is checked for the file
      // it would save to should that saveAs() fail (which saveAs() checked is its own target).
      const file = files.get(this);
      if (file !== undefined) checkWritable(may, file);
      return Reflect.apply(save, this, args);
    },
    async saveAs(path, ...rest) {
      path = fromURL(path);
      const checked = may !== undefined && isPath(path);
      const file = checked ? nodePath.resolve(path) : undefined;
      if (checked) checkWritable(may, path);
      await Reflect.apply(saveAs, this, [toSystem(path), ...rest]);
      if (checked) files.set(this, file);
    },
  });
}

/** A `file:` URL as the path fs makes of it; anything else as it is. */
const fromURL = (path) => (path instanceof URL ? fileURLToPath(path) : path);

/** Whether the permission model is to check `path`: a string the addon takes for a path (one with a
 * NUL character gets the addon's TypeError first, as fs gives its own). */
const isPath = (path) => typeof path === 'string' && path !== '' && !path.includes('\0');

/** Throws fs's error unless the process may write `file` (as fs checks it, `resource` the path as
 * given) and in its directory, where a save writes the new version first. */
function checkWritable(may, file) {
  if (!may('fs.write', file)) throw denied('FileSystemWrite', 'write', file);
  const directory = nodePath.dirname(nodePath.resolve(file));
  if (!may('fs.write', directory)) throw denied('FileSystemWrite', 'write', directory);
}

/** Node's own error for a refused access, its message as the running Node words it (Node 22 on names
 * the flag). */
function denied(scope, flag, resource) {
  const hint = Number(process.versions.node.split('.')[0]) >= 22 ? `. Use --allow-fs-${flag} to manage permissions.` : '';
  const error = new Error(`Access to this API has been restricted${hint}`);
  return Object.assign(error, { code: 'ERR_ACCESS_DENIED', permission: scope, resource });
}

/** Replaces `target`'s members of the names in `methods` with them, keeping each member's attributes. */
function define(target, methods) {
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(target, name, { ...Object.getOwnPropertyDescriptor(target, name), value });
  }
}
