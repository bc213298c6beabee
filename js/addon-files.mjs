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
//   write access to the file's directory, where a save writes the new version before it replaces
//   the file.
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';

/** Wraps open(), save() and saveAs() of the exported VirtualBuffer class (whose static members are
 * its own) to take paths as fs does. */
export function takePathsAsFs(VirtualBuffer) {
  const { open } = VirtualBuffer;
  const { save, saveAs } = VirtualBuffer.prototype;
  const permission = process.permission;
  // The file each buffer saves to, once open() or saveAs() has given it one, for save()'s check. A
  // buffer made from bytes has none.
  const files = new WeakMap();
  const toSystem = process.platform === 'win32' ? nodePath.toNamespacedPath : (path) => path;
  define(VirtualBuffer, {
    async open(path, ...rest) {
      path = fromURL(path);
      if (permission !== undefined && isPath(path) && !permission.has('fs.read', path)) {
        throw denied('FileSystemRead', 'read', nodePath.resolve(path));
      }
      const buffer = await Reflect.apply(open, this, [toSystem(path), ...rest]);
      if (permission !== undefined) files.set(buffer, path);
      return buffer;
    },
  });
  define(VirtualBuffer.prototype, {
    async save(...args) {
      const file = files.get(this);
      if (file !== undefined) checkWritable(permission, file);
      return Reflect.apply(save, this, args);
    },
    async saveAs(path, ...rest) {
      path = fromURL(path);
      if (permission !== undefined && isPath(path)) checkWritable(permission, path);
      await Reflect.apply(saveAs, this, [toSystem(path), ...rest]);
      if (permission !== undefined) files.set(this, path);
    },
  });
}

/** A `file:` URL as the path fs makes of it; anything else as it is. */
const fromURL = (path) => (path instanceof URL ? fileURLToPath(path) : path);

const isPath = (path) => typeof path === 'string' && path !== '';

/** Throws fs's error unless the process may write in `file`'s directory. */
function checkWritable(permission, file) {
  const directory = nodePath.dirname(nodePath.resolve(file));
  if (!permission.has('fs.write', directory)) throw denied('FileSystemWrite', 'write', directory);
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
